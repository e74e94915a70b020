import { InvalidOptionError } from '@vkd/core';
import { describe, expect, it } from 'vitest';
import type { ModelMetrics } from '../src/report/run-metrics';
import { benchmarkVerdict, formatSeedBenchmark, seedBenchmark, type SeedRun } from '../src/report/seed-benchmark';
import { differenceChartSpec, seedValuesChartSpec } from '../src/report/write-benchmark-report';
import { seedList } from '../src/options/seed-list';

/** A model whose four measures are `value` (a fraction), or `value + offset` for V2V. */
function model(i2vRank1: number, i2vMap: number, v2v = 0.5): ModelMetrics {
  const protocol = (rank1: number, map: number) => ({ rank1, rank5: rank1, mAP: map, mAPTrapezoid: map, mINP: map });
  return { i2v: protocol(i2vRank1, i2vMap), v2v: protocol(v2v, v2v) };
}

// Teacher I2V mAP 0.20 every seed; VKD 0.21..0.25 (differences 1..5 points); control 0.22 (VKD − control −1..+3).
const runs: SeedRun[] = [0, 1, 2, 3, 4].map((seed) => ({
  seed,
  models: {
    teacher: model(0.3, 0.2),
    student: model(0.3 + 0.01 * seed, 0.21 + 0.01 * seed),
    baseline: model(0.3, 0.22),
  },
}));

describe('seedBenchmark', () => {
  it('summarises each model and gives paired intervals (hand-computed)', () => {
    const benchmark = seedBenchmark(runs);
    expect(benchmark.seeds).toEqual([0, 1, 2, 3, 4]);
    expect(benchmark.models.teacher?.['I2V mAP'].mean).toBeCloseTo(20, 10);
    expect(benchmark.models.student?.['I2V mAP'].mean).toBeCloseTo(23, 10);
    expect(benchmark.models.student?.['I2V mAP'].standardDeviation).toBeCloseTo(Math.sqrt(2.5), 10);
    expect(benchmark.models.kdOnly).toBeUndefined();
    const vsTeacher = benchmark.differences.find((d) => d.comparison === 'VKD − teacher' && d.measure === 'I2V mAP');
    // differences 1..5: mean 3 ± 2.776445 · √2.5 / √5 = 3 ± 1.963243
    expect(vsTeacher?.mean).toBeCloseTo(3, 10);
    expect(vsTeacher?.low).toBeCloseTo(1.036757, 5);
    expect(vsTeacher?.high).toBeCloseTo(4.963243, 5);
    expect(vsTeacher?.excludesZero).toBe(true);
    const vsControl = benchmark.differences.find(
      (d) => d.comparison === 'VKD − no-KD control' && d.measure === 'I2V mAP',
    );
    expect(vsControl?.mean).toBeCloseTo(1, 10);
    expect(vsControl?.low).toBeCloseTo(1 - 1.963243, 5);
    expect(vsControl?.excludesZero).toBe(false);
    // V2V identical for all models: zero difference, zero width.
    const v2v = benchmark.differences.find((d) => d.comparison === 'VKD − teacher' && d.measure === 'V2V mAP');
    expect(v2v?.mean).toBeCloseTo(0, 10);
    expect(v2v?.excludesZero).toBe(false);
  });

  it('prints both tables and a verdict with the intervals', () => {
    const benchmark = seedBenchmark(runs);
    const text = formatSeedBenchmark(benchmark);
    expect(text).toMatch(/Over 5 seeds \(0, 1, 2, 3, 4\)/);
    expect(text).toMatch(/CE\+TR\+KD\+DP \(VKD\)\s+32\.00 ± 1\.58\s+23\.00 ± 1\.58/);
    expect(text).toMatch(/VKD − teacher\s+I2V mAP\s+\+3\.00 ± 1\.58\s+\[\+1\.04, \+4\.96\]\s+yes \(> 0\)/);
    expect(benchmarkVerdict(benchmark)).toMatch(
      /VKD − teacher: I2V mAP \+3\.00 \[\+1\.04, \+4\.96\], rank-1 \+2\.00 \[\+0\.04, \+3\.96\]/,
    );
    expect(benchmarkVerdict(benchmark)).toMatch(
      /VKD − no-KD control: I2V mAP \+1\.00 .*only partly distinguishable from 0/,
    );
  });

  it('charts: one point and interval per comparison and measure, per-seed dots per model', () => {
    const benchmark = seedBenchmark(runs);
    const spec = differenceChartSpec(benchmark) as { data: { values: unknown[] } };
    expect(spec.data.values).toHaveLength(8);
    const dots = seedValuesChartSpec(benchmark, 'I2V mAP') as { data: { values: unknown[] } };
    expect(dots.data.values).toHaveLength(15);
  });

  it('rejects fewer than 2 seeds and repeated seeds', () => {
    expect(() => seedBenchmark(runs.slice(0, 1))).toThrow(InvalidOptionError);
    expect(() => seedBenchmark([runs[0]!, runs[0]!])).toThrow(/Each seed may appear once/);
  });
});

describe('seedList (--seeds)', () => {
  it('a count N means the seeds 0..N−1; a list is taken as is', () => {
    expect(seedList([5])).toEqual([0, 1, 2, 3, 4]);
    expect(seedList([3, 7])).toEqual([3, 7]);
  });

  it('rejects fewer than 2 seeds and repeats, saying what to pass', () => {
    expect(() => seedList([0])).toThrow(
      /Invalid --seeds: 0\. A spread over seeds needs at least 2 of them\. Give a seed count/,
    );
    expect(() => seedList([1])).toThrow(InvalidOptionError);
    expect(() => seedList([2, 2])).toThrow(/Seed 2 appears twice/);
  });
});
