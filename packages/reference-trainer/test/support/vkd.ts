import { tmpdir } from 'node:os';
import { COMMANDS } from '../../src/cli/commands';
import { runCli } from '../../src/cli/run-cli';
import { capturingIo } from './capturing-io';

/** What one `vkd …` run in this process wrote and how it exited. */
export interface VkdResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `vkd ARGV` in this process (the real commands, no process start) with its output captured, in `cwd` (relative
 * paths and config files resolve there) and with `CI=true` (no progress bars).
 */
export async function vkd(argv: readonly string[], cwd = tmpdir()): Promise<VkdResult> {
  const { io, output } = capturingIo(cwd);
  const code = await runCli(argv, io, COMMANDS);
  return { code, ...output() };
}
