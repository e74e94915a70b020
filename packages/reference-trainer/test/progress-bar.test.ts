import { describe, expect, it } from 'vitest';
import { createProgressBar, formatDuration, progressEnabled } from '../src/output/progress-bar';

function stream(isTTY: boolean) {
  const writes: string[] = [];
  return { writes, isTTY, columns: 120, write: (text: string) => writes.push(text) };
}

describe('progressEnabled', () => {
  it('draws only on a TTY, without CI and without --quiet', () => {
    expect(progressEnabled(stream(true), {}, false)).toBe(true);
    expect(progressEnabled(stream(false), {}, false)).toBe(false);
    expect(progressEnabled(stream(true), { CI: 'true' }, false)).toBe(false);
    expect(progressEnabled(stream(true), { CI: '1' }, false)).toBe(false);
    expect(progressEnabled(stream(true), { CI: 'false' }, false)).toBe(true);
    expect(progressEnabled(stream(true), {}, true)).toBe(false);
  });
});

describe('formatDuration', () => {
  it('formats seconds, minutes and hours', () => {
    expect(formatDuration(5.4)).toBe('5s');
    expect(formatDuration(83)).toBe('1m23s');
    expect(formatDuration(3960)).toBe('1h06m');
    expect(formatDuration(Number.NaN)).toBe('--');
  });
});

describe('createProgressBar', () => {
  it('shows steps, percentage, images/s and an ETA from the elapsed time per step', () => {
    const out = stream(true);
    let now = 0;
    const bar = createProgressBar({
      label: 'teacher epoch 1/3',
      total: 10,
      unit: 'img',
      stream: out,
      enabled: true,
      now: () => now,
      redrawMs: 0,
    });
    now = 4000; // 4 s for 2 steps of 32 images → 16 img/s, 2 s/step, 8 steps left → 16 s
    bar.tick(2, 64, 'loss 2.5');
    const line = out.writes.at(-1) as string;
    expect(line.startsWith('\r')).toBe(true);
    expect(line).toContain('teacher epoch 1/3 [');
    expect(line).toContain('2/10  20%');
    expect(line).toContain('16.0 img/s');
    expect(line).toContain('ETA 16s');
    expect(line).toContain('loss 2.5');
    now = 20000;
    bar.tick(8, 256);
    bar.done();
    const final = out.writes.at(-1) as string;
    expect(final).toContain('10/10 100%');
    expect(final).toContain('in 20s');
    expect(final.endsWith('\n')).toBe(true);
    const count = out.writes.length;
    bar.done();
    expect(out.writes.length).toBe(count);
  });

  it('writes nothing when disabled', () => {
    const out = stream(false);
    const bar = createProgressBar({ label: 'x', total: 3, stream: out, enabled: false });
    bar.tick();
    bar.done();
    expect(out.writes).toEqual([]);
  });

  it('limits redraws to one per redrawMs', () => {
    const out = stream(true);
    let now = 0;
    const bar = createProgressBar({
      label: 'x',
      total: 100,
      stream: out,
      enabled: true,
      now: () => now,
      redrawMs: 100,
    });
    for (let step = 0; step < 50; step++) {
      now += 10;
      bar.tick();
    }
    expect(out.writes.length).toBeLessThanOrEqual(6);
    expect(out.writes.length).toBeGreaterThanOrEqual(4);
  });
});

describe('plain progress lines without a TTY', () => {
  it('prints a line every N seconds when the bar cannot draw, none with lineEverySeconds 0 (--quiet)', () => {
    const out = stream(false);
    let now = 0;
    const bar = createProgressBar({
      label: 'evaluate teacher',
      total: 400,
      unit: 'img',
      stream: out,
      enabled: false,
      lineEverySeconds: 10,
      now: () => now,
    });
    now = 5000;
    bar.tick(100, 100);
    expect(out.writes).toEqual([]); // not yet 10 s
    now = 10_000;
    bar.tick(100, 100);
    expect(out.writes).toEqual(['evaluate teacher: 200/400 (50%), 20.0 img/s, ETA 10s\n']);
    now = 15_000;
    bar.tick(100, 100);
    expect(out.writes.length).toBe(1);
    now = 20_001;
    bar.tick(50, 50);
    expect(out.writes.at(-1)).toBe('evaluate teacher: 350/400 (88%), 17.5 img/s, ETA 3s\n');
    bar.done();
    expect(out.writes.length).toBe(2); // done() draws nothing without a TTY
    const quiet = stream(false);
    const silent = createProgressBar({
      label: 'x',
      total: 2,
      stream: quiet,
      enabled: false,
      lineEverySeconds: 0,
      now: () => now,
    });
    now += 60_000;
    silent.tick(1);
    expect(quiet.writes).toEqual([]);
  });
});
