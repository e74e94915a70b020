import { runMetricsCli } from './cli/run-metrics-cli';

// A closed pipe (`vkd-metrics … | head`) is a normal way for a reader to stop: exit quietly.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

process.exitCode = runMetricsCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
});
