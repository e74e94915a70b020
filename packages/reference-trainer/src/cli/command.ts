import type { OptionSpec, OptionValues } from '../options/option-spec';
import type { OutputStream } from '../output/progress-bar';
import type { Stage } from '../config/presets';

/** Where a command writes and what it knows about its environment (injected, so tests capture the output). */
export interface CommandIo {
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  readonly env: Record<string, string | undefined>;
  /** Directory relative paths are resolved against. */
  readonly cwd: string;
}

/** A parsed invocation handed to a command's `run`. */
export interface CommandInput {
  /** Resolved option values (defaults < preset < config file < flags). */
  readonly options: OptionValues;
  readonly positionals: readonly string[];
  readonly io: CommandIo;
  /** Keys the user set on the command line or in the config file (not defaults or preset values). */
  readonly explicit?: ReadonlySet<string>;
}

/** A `vkd` subcommand. */
export interface CommandDefinition {
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** Usage line after `vkd <name>`, e.g. `--dataset mars --root DIR --out DIR`. */
  readonly usage: string;
  /** Longer help text (paragraphs). */
  readonly details?: string;
  /** Examples shown in `--help`. */
  readonly examples?: readonly string[];
  readonly options: readonly OptionSpec[];
  /** Which preset section applies to this command (absent: presets are not accepted). */
  readonly stage?: Stage;
  /** Accepted positional arguments (default none). */
  readonly positionals?: { readonly min: number; readonly max: number; readonly names: string };
  /** Runs the command; resolves to the process exit code. */
  run(input: CommandInput): Promise<number>;
}

/** Writes one line to a stream. */
export function writeLine(stream: OutputStream, text = ''): void {
  stream.write(`${text}\n`);
}
