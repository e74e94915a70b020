import { isAbsolute, relative } from 'node:path';
import type { CommandIo } from '../cli/command';
import { createProgressBar, PROGRESS_LINE_SECONDS, progressEnabled, type ProgressBar } from '../output/progress-bar';

/** What a command prints: info lines (hidden by --quiet), results (always), warnings, progress bars. */
export interface RunLog {
  /** Progress/status line on stdout; suppressed by `--quiet`. */
  info(text: string): void;
  /** A result (tables, output paths) on stdout; always printed. */
  result(text: string): void;
  /** A warning on stderr; always printed. */
  warn(text: string): void;
  /**
   * A progress bar on stdout, drawing only on a TTY without CI=true and without --quiet; elsewhere (unless --quiet) a
   * plain progress line every `PROGRESS_LINE_SECONDS`.
   */
  progress(label: string, total: number, unit?: string): ProgressBar;
  /** Whether progress bars draw (when they do not, per-epoch summary lines replace them). */
  readonly interactive: boolean;
}

/** Creates the log of one command from its I/O and `--quiet`. */
export function createRunLog(io: CommandIo, quiet: boolean): RunLog {
  const interactive = progressEnabled(io.stdout, io.env, quiet);
  return {
    info: (text) => {
      if (!quiet) io.stdout.write(`${text}\n`);
    },
    result: (text) => {
      io.stdout.write(`${text}\n`);
    },
    warn: (text) => {
      io.stderr.write(`warning: ${text}\n`);
    },
    progress: (label, total, unit) =>
      createProgressBar({
        label,
        total,
        stream: io.stdout,
        enabled: interactive,
        lineEverySeconds: quiet ? 0 : PROGRESS_LINE_SECONDS,
        ...(unit ? { unit } : {}),
      }),
    interactive,
  };
}

/** A path as shown to the user: relative to `cwd` when inside it, absolute otherwise. */
export function displayPath(cwd: string, path: string): string {
  const shown = relative(cwd, path);
  return shown === '' ? '.' : shown.startsWith('..') || isAbsolute(shown) ? path : shown;
}
