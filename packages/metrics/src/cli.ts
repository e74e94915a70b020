import { runMetricsCli } from './cli/run-metrics-cli';

process.exitCode = runMetricsCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
});
