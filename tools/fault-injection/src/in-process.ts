import { runMetricsCli } from '../../../packages/metrics/src/cli/run-metrics-cli';
import { COMMANDS } from '../../../packages/reference-trainer/src/cli/commands';
import { runCli } from '../../../packages/reference-trainer/src/cli/run-cli';
import { classifyFailure, REPOSITORY, type AttackResult, type Outcome, type ProcessResult } from './harness';

/** How long an in-process command may take before it counts as a hang (they are all refused before any work). */
const HANG_MS = 60_000;

/**
 * Runs `vkd …` (or `vkd-metrics …`) in this process with captured output, for attacks that must be refused before
 * any work (bad flags and files): no process start per attempt. An exception escaping the CLI is a stack trace; no
 * answer within a minute is a hang.
 */
export async function runInProcess(
  args: readonly string[],
  options: { metrics?: boolean; cwd?: string } = {},
): Promise<ProcessResult | 'hang'> {
  let stdout = '';
  let stderr = '';
  const io = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env: { CI: 'true' },
    cwd: options.cwd ?? REPOSITORY,
  };
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<'hang'>((done) => {
    timer = setTimeout(() => done('hang'), HANG_MS);
  });
  try {
    const run = options.metrics
      ? Promise.resolve().then(() =>
          runMetricsCli(args, { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text) }),
        )
      : runCli(args, io, COMMANDS);
    const code = await Promise.race([run, hang]);
    if (code === 'hang') return 'hang';
    return { code, signal: null, stdout, stderr };
  } catch (error) {
    return { code: 1, signal: null, stdout, stderr: `${stderr}\nunexpected error: ${(error as Error).stack}` };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * One attempt that must be refused with a clear typed error whose first line matches `expected` (anything else is
 * unclear; exit 0 is a silent wrong result).
 */
export async function refusedInProcess(
  attack: string,
  args: readonly string[],
  expected: RegExp,
  options: { metrics?: boolean; cwd?: string } = {},
): Promise<AttackResult> {
  const result = await runInProcess(args, options);
  if (result === 'hang') return { attack, outcome: 'hang', detail: `no answer within ${HANG_MS / 1000} s` };
  if (result.code === 0) return { attack, outcome: 'silent wrong result', detail: 'accepted (exit 0)' };
  const message = result.stderr.trim().split('\n')[0] ?? '';
  let outcome: Outcome = classifyFailure(result);
  if (outcome === 'clear typed error' && !expected.test(result.stderr)) outcome = 'unclear error or stack trace';
  return { attack, outcome, detail: message.slice(0, 200) };
}
