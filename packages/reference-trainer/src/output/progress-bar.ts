/** Anything a progress bar can draw on (a TTY `process.stdout` in practice). */
export interface OutputStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

/** A progress bar over a known number of steps, with ETA and throughput. */
export interface ProgressBar {
  /** Advances by `steps` (default 1); `items` (e.g. images) feed the items/s rate; `detail` replaces the suffix. */
  tick(steps?: number, items?: number, detail?: string): void;
  /** Draws the final state and ends the line. Safe to call twice. */
  done(detail?: string): void;
}

/** Options of `createProgressBar`. */
export interface ProgressBarOptions {
  readonly label: string;
  /** Expected steps; may be an upper bound (a finished bar then shows the steps done as the total). */
  readonly total: number;
  /** Unit of the rate, e.g. `img` → `42.1 img/s`. */
  readonly unit?: string;
  readonly stream: OutputStream;
  /** When false the bar draws nothing (non-TTY output, CI=true, --quiet). */
  readonly enabled: boolean;
  /**
   * When the bar does not draw (non-TTY, CI): print a plain progress line every this many seconds instead
   * (`label: 120/400 img (30%), 35.2 img/s, ETA 8s`), so long steps are never silent. Absent or 0: none (--quiet).
   */
  readonly lineEverySeconds?: number;
  /** Injectable clock in ms (tests). */
  readonly now?: () => number;
  /** Minimum ms between redraws. */
  readonly redrawMs?: number;
}

/**
 * Whether progress bars should draw: only on a TTY, never with `CI=true` (or any non-empty CI other than
 * `false`/`0`), never with `--quiet`.
 */
export function progressEnabled(
  stream: OutputStream,
  env: Record<string, string | undefined>,
  quiet: boolean,
): boolean {
  const ci = env.CI;
  const inCi = ci !== undefined && ci !== '' && ci !== 'false' && ci !== '0';
  return !quiet && !inCi && stream.isTTY === true;
}

/** `83` → `1m23s`; `4000` → `1h06m`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--';
  const whole = Math.round(seconds);
  if (whole < 60) return `${whole}s`;
  if (whole < 3600) return `${Math.floor(whole / 60)}m${String(whole % 60).padStart(2, '0')}s`;
  return `${Math.floor(whole / 3600)}h${String(Math.floor((whole % 3600) / 60)).padStart(2, '0')}m`;
}

/** Seconds between plain progress lines when bars cannot draw (non-TTY output, CI). */
export const PROGRESS_LINE_SECONDS = 10;

/**
 * Creates a one-line progress bar redrawn in place with `\r`:
 * `teacher epoch 3/14 [#######.........] 21/60  35% 38.2 img/s ETA 1m02s loss 2.31`.
 */
export function createProgressBar(options: ProgressBarOptions): ProgressBar {
  const now = options.now ?? (() => Date.now());
  const redrawMs = options.redrawMs ?? 100;
  const start = now();
  let steps = 0;
  let items = 0;
  let detail = '';
  let lastDraw = -Infinity;
  let finished = false;
  let expected = options.total;
  const lineMs = (options.lineEverySeconds ?? 0) * 1000;
  let lastLine = start;
  const plainLine = () => {
    const elapsed = (now() - start) / 1000;
    const rate = elapsed > 0 && items > 0 ? `, ${(items / elapsed).toFixed(1)} ${options.unit ?? 'it'}/s` : '';
    const eta = steps > 0 && steps < expected ? `, ETA ${formatDuration((elapsed / steps) * (expected - steps))}` : '';
    const percent = Math.round(Math.min(steps / Math.max(expected, 1), 1) * 100);
    options.stream.write(
      `${options.label}: ${steps}/${expected} (${percent}%)${rate}${eta}${detail ? `, ${detail}` : ''}\n`,
    );
    lastLine = now();
  };
  const draw = (final: boolean) => {
    if (!options.enabled) {
      if (!final && lineMs > 0 && now() - lastLine >= lineMs) plainLine();
      return;
    }
    const elapsed = (now() - start) / 1000;
    const total = Math.max(expected, 1);
    const fraction = Math.min(steps / total, 1);
    const width = Math.max(10, Math.min(30, (options.stream.columns ?? 100) - 80));
    const filled = Math.round(fraction * width);
    const rate = elapsed > 0 && items > 0 ? `${(items / elapsed).toFixed(1)} ${options.unit ?? 'it'}/s` : '';
    const eta = final
      ? `in ${formatDuration(elapsed)}`
      : steps > 0
        ? `ETA ${formatDuration((elapsed / steps) * (total - steps))}`
        : 'ETA --';
    const line = `${options.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${steps}/${expected} ${String(Math.round(fraction * 100)).padStart(3)}% ${rate} ${eta}${detail ? ` ${detail}` : ''}`;
    options.stream.write(`\r${line}\x1b[K${final ? '\n' : ''}`);
    lastDraw = now();
  };
  return {
    tick(count = 1, itemCount = 0, newDetail) {
      steps += count;
      items += itemCount;
      if (newDetail !== undefined) detail = newDetail;
      if (now() - lastDraw >= redrawMs || !options.enabled) draw(false);
    },
    done(newDetail) {
      if (finished) return;
      finished = true;
      if (newDetail !== undefined) detail = newDetail;
      // `total` may be an upper bound (feature extraction skips cached features): a finished bar shows what was done.
      if (steps > 0 && steps < expected) expected = steps;
      draw(true);
    },
  };
}
