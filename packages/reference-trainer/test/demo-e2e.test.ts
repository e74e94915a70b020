import { access, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_LOADER_WORKERS } from '@vkd/datasets/node';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ProtocolMetrics, RunMetrics } from '../src/report/run-metrics';
import { vkd } from './support/vkd';

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

let out: string;
let demo: Awaited<ReturnType<typeof vkd>>;

// The real pipeline (datasets → models → trainer → metrics → report) at the smallest size: the --quick demo with one
// epoch per stage on the wasm backend.
beforeAll(async () => {
  out = join(await mkdtemp(join(tmpdir(), 'vkd-e2e-')), 'run');
  demo = await vkd([
    'demo',
    '--quick',
    '--device',
    'wasm',
    '--threads',
    '1',
    '--teacher-epochs',
    '1',
    '--student-epochs',
    '1',
    '--heatmaps',
    '2',
    '--prefetch',
    '1',
    '--out',
    out,
  ]);
}, 240_000);

function expectProtocol(metrics: ProtocolMetrics | undefined) {
  expect(metrics).toBeDefined();
  for (const key of ['rank1', 'rank5', 'mAP', 'mAPTrapezoid', 'mINP'] as const) {
    expect(metrics?.[key], key).toBeGreaterThanOrEqual(0);
    expect(metrics?.[key], key).toBeLessThanOrEqual(1);
  }
  expect(metrics?.rank5).toBeGreaterThanOrEqual(metrics?.rank1 as number);
}

describe('vkd demo --quick (end to end)', () => {
  it('prints the side-by-side table and the verdict', () => {
    expect(demo.stderr).not.toMatch(/error/i);
    expect(demo.code).toBe(0);
    expect(demo.stdout).toMatch(/backend: wasm, 1 thread \(requested wasm/);
    expect(demo.stdout).toMatch(/I2V\s+rank-1\s+\d+\.\d\d\s+\d+\.\d\d/);
    expect(demo.stdout).toMatch(/V2V\s+mAP/);
    expect(demo.stdout).toMatch(/The student (beats|does NOT beat)|Mixed result/);
  });

  it('writes metrics.json with the documented schema', async () => {
    const metrics = JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8')) as RunMetrics;
    for (const model of [metrics.teacher, metrics.student]) {
      expectProtocol(model?.i2v);
      expectProtocol(model?.v2v);
      expect(model?.galleryFrames?.map((point) => point.frames)).toEqual([1, 2, 4, 8]);
      expect(model?.perCamera?.length).toBe(8);
    }
    expect(metrics.settings).toMatchObject({ backend: 'wasm', command: 'vkd demo --quick' });
    // --prefetch reaches the demo's loader settings (the ones evaluateRun and trainingLoaderFor pass on).
    expect(metrics.settings.data).toMatchObject({ workers: DEFAULT_LOADER_WORKERS, prefetch: 1 });
  });

  it('writes checkpoints, logs, models and a report with real PNGs', async () => {
    for (const stage of ['teacher', 'student']) {
      expect(await exists(join(out, stage, 'checkpoints', 'checkpoints.json')), stage).toBe(true);
      expect(await exists(join(out, stage, 'model')), stage).toBe(true);
      const log = (await readFile(join(out, stage, 'log.jsonl'), 'utf8'))
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { type: string });
      expect(
        log.some((entry) => entry.type === 'epoch'),
        stage,
      ).toBe(true);
    }
    for (const file of ['cmc.png', 'losses.png', 'gallery-frames.png', 'per-camera.png', 'heatmaps.png']) {
      const meta = await sharp(join(out, 'report', file)).metadata();
      expect(meta.format, file).toBe('png');
      expect(meta.width, file).toBeGreaterThan(100);
    }
    expect(await readFile(join(out, 'report', 'index.html'), 'utf8')).toContain('heatmaps.png');
  });

  it('re-evaluates a saved model and rebuilds the report from the run directory', async () => {
    const evaluation = await vkd([
      'evaluate',
      '--device',
      'wasm',
      '--model',
      join(out, 'student'),
      '--dataset',
      'synthetic',
      '--root',
      join(out, 'data'),
      '--height',
      '64',
      '--width',
      '32',
      '--test-frames',
      '4',
      '--gallery-frames',
      '1,4',
      '--out',
      join(out, 'eval'),
    ]);
    expect(evaluation.stderr).toBe('');
    expect(evaluation.code).toBe(0);
    const saved = JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8')) as RunMetrics;
    const again = JSON.parse(await readFile(join(out, 'eval', 'metrics.json'), 'utf8')) as RunMetrics;
    // Same weights, same frames: the saved student gives the same numbers as during the demo.
    expect(again.model?.i2v.mAP).toBeCloseTo(saved.student?.i2v.mAP as number, 6);
    const report = await vkd([
      'report',
      '--device',
      'wasm',
      '--run',
      out,
      '--out',
      join(out, 'report2'),
      '--heatmaps',
      '0',
    ]);
    expect(report.code).toBe(0);
    expect(await exists(join(out, 'report2', 'cmc.png'))).toBe(true);
  });
});
