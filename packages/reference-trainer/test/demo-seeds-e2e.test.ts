import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunMetrics } from '../src/report/run-metrics';
import { pairedDifference } from '../src/report/seed-statistics';
import type { SeedBenchmark } from '../src/report/seed-benchmark';
import { vkd } from './support/vkd';

let out: string;
let run: Awaited<ReturnType<typeof vkd>>;

// The real multi-seed pipeline at the smallest size: 2 seeds of the --quick demo, one epoch per stage, with the
// ablation students, no report.
beforeAll(async () => {
  out = join(await mkdtemp(join(tmpdir(), 'vkd-seeds-')), 'run');
  run = await vkd([
    'demo',
    '--quick',
    '--seeds',
    '2',
    '--ablation',
    '--device',
    'wasm',
    '--threads',
    '1',
    '--teacher-epochs',
    '1',
    '--student-epochs',
    '1',
    '--no-report',
    '--quiet',
    '--out',
    out,
  ]);
}, 400_000);

describe('vkd demo --quick --seeds 2 --ablation (end to end)', () => {
  it('prints the per-model table, the paired differences and the verdict', () => {
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Over 2 seeds \(0, 1\)/);
    for (const label of [
      'teacher',
      'CE\\+TR \\(no-KD control\\)',
      'CE\\+TR\\+KD ',
      'CE\\+TR\\+DP',
      'CE\\+TR\\+KD\\+DP \\(VKD\\)',
    ]) {
      expect(run.stdout).toMatch(new RegExp(`${label}\\s+\\d+\\.\\d\\d ± \\d+\\.\\d\\d`));
    }
    expect(run.stdout).toMatch(
      /VKD − teacher\s+I2V mAP\s+[+-]\d+\.\d\d ± \d+\.\d\d\s+\[[+-]\d+\.\d\d, [+-]\d+\.\d\d\]/,
    );
    expect(run.stdout).toMatch(/VKD − no-KD control: I2V mAP/);
  });

  it('writes per-seed metrics (with the ablation) and a benchmark whose intervals follow from them', async () => {
    const seeds = await Promise.all(
      [0, 1].map(
        async (seed) => JSON.parse(await readFile(join(out, `seed-${seed}`, 'metrics.json'), 'utf8')) as RunMetrics,
      ),
    );
    for (const metrics of seeds) {
      expect(metrics.ablation?.kdOnly?.i2v.mAPTrapezoid).toBeGreaterThanOrEqual(0);
      expect(metrics.ablation?.dpOnly?.i2v.mAPTrapezoid).toBeGreaterThanOrEqual(0);
      expect(metrics.baseline?.i2v.mAPTrapezoid).toBeGreaterThanOrEqual(0);
    }
    expect(seeds[0]?.settings.seed).toBe(0);
    expect(seeds[1]?.settings.seed).toBe(1);
    // Each seed draws its own synthetic set: the teachers differ.
    expect(seeds[0]?.teacher?.i2v.mAPTrapezoid).not.toBe(seeds[1]?.teacher?.i2v.mAPTrapezoid);
    const summary = JSON.parse(await readFile(join(out, 'benchmark.json'), 'utf8')) as { benchmark: SeedBenchmark };
    const difference = summary.benchmark.differences.find(
      (d) => d.comparison === 'VKD − teacher' && d.measure === 'I2V mAP',
    );
    const student = seeds.map((metrics) => (metrics.student?.i2v.mAPTrapezoid as number) * 100);
    const teacher = seeds.map((metrics) => (metrics.teacher?.i2v.mAPTrapezoid as number) * 100);
    const expected = pairedDifference(student, teacher);
    expect(difference?.mean).toBeCloseTo(expected.mean, 10);
    expect(difference?.low).toBeCloseTo(expected.low, 10);
    expect(difference?.high).toBeCloseTo(expected.high, 10);
  });
});
