import { InvalidOptionError } from '@vkd/core';
import { describe, expect, it } from 'vitest';
import { pairedDifference, studentTCdf, studentTQuantile, summarize } from '../src/report/seed-statistics';

describe('summarize', () => {
  it('gives the mean and the n − 1 standard deviation (hand-computed)', () => {
    // mean 5; squared deviations 9 + 1 + 1 + 9 = 20; sd = √(20 / 3)
    const summary = summarize([2, 4, 6, 8]);
    expect(summary.count).toBe(4);
    expect(summary.mean).toBe(5);
    expect(summary.standardDeviation).toBeCloseTo(Math.sqrt(20 / 3), 14);
    expect(summarize([7]).standardDeviation).toBe(0);
  });

  it('rejects an empty list and non-finite values', () => {
    expect(() => summarize([])).toThrow(InvalidOptionError);
    expect(() => summarize([1, Number.NaN])).toThrow(/Value 2 is not a finite number/);
  });
});

describe('Student t', () => {
  it('matches the closed forms for 1 and 2 degrees of freedom', () => {
    for (const t of [-5, -1.3, 0, 0.4, 2, 30]) {
      expect(studentTCdf(t, 1)).toBeCloseTo(0.5 + Math.atan(t) / Math.PI, 12);
      expect(studentTCdf(t, 2)).toBeCloseTo(0.5 + t / (2 * Math.sqrt(2 + t * t)), 12);
    }
  });

  it('gives the published two-sided 95 % quantiles', () => {
    // t(0.975, df) from standard tables (NIST/SEMATECH e-Handbook 1.3.6.7.2, more digits from R's qt).
    const table: [number, number][] = [
      [1, 12.7062047],
      [2, 4.30265273],
      [3, 3.18244631],
      [4, 2.77644511],
      [9, 2.26215716],
      [29, 2.04522964],
      [100, 1.98397152],
    ];
    for (const [df, quantile] of table) expect(studentTQuantile(0.975, df)).toBeCloseTo(quantile, 6);
    expect(studentTQuantile(0.95, 4)).toBeCloseTo(2.13184679, 6);
    expect(studentTQuantile(0.025, 4)).toBeCloseTo(-2.77644511, 6);
    expect(studentTQuantile(0.5, 7)).toBe(0);
  });

  it('rejects probabilities outside (0, 1) and bad degrees of freedom', () => {
    expect(() => studentTQuantile(1, 4)).toThrow(InvalidOptionError);
    expect(() => studentTQuantile(0, 4)).toThrow(InvalidOptionError);
    expect(() => studentTQuantile(0.975, 0)).toThrow(/degreesOfFreedom/);
  });
});

describe('pairedDifference', () => {
  it('gives mean ± t·sd/√n of the per-seed differences (hand-computed)', () => {
    // differences 1, 2, 3, 4, 5: mean 3, sd √(10/4) = 1.58114, se 0.707107, t(0.975, 4) = 2.776445 → ± 1.963243
    const result = pairedDifference([11, 12, 13, 14, 15], [10, 10, 10, 10, 10]);
    expect(result.mean).toBeCloseTo(3, 14);
    expect(result.standardDeviation).toBeCloseTo(Math.sqrt(2.5), 14);
    expect(result.tQuantile).toBeCloseTo(2.77644511, 6);
    expect(result.low).toBeCloseTo(3 - 1.963243, 5);
    expect(result.high).toBeCloseTo(3 + 1.963243, 5);
    expect(result.excludesZero).toBe(true);
  });

  it('pairs by seed: a constant offset has a zero-width interval, a noisy one straddles 0', () => {
    const offset = pairedDifference([0.3, 0.9, 0.1], [0.1, 0.7, -0.1]);
    expect(offset.mean).toBeCloseTo(0.2, 12);
    expect(offset.high - offset.low).toBeCloseTo(0, 12);
    // differences +1, −1: mean 0, sd √2, t(0.975, 1) = 12.706 → ± 12.706
    const noisy = pairedDifference([2, 0], [1, 1]);
    expect(noisy.low).toBeCloseTo(-12.7062047, 5);
    expect(noisy.excludesZero).toBe(false);
  });

  it('rejects mismatched lists, fewer than 2 seeds, bad confidence', () => {
    expect(() => pairedDifference([1, 2], [1])).toThrow(/one value per seed/);
    expect(() => pairedDifference([1], [0])).toThrow(/at least 2 values/);
    expect(() => pairedDifference([1, 2], [0, 1], 1)).toThrow(/confidence/);
    expect(() => pairedDifference([1, Number.POSITIVE_INFINITY], [0, 1])).toThrow(InvalidOptionError);
  });
});
