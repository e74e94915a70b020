import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { formatComparisonTable, verdict } from '../src/report/comparison-table';
import { noiseCaveat } from '../src/report/noise-caveat';
import { jetColor, writeHeatmapPanel } from '../src/report/heatmap-panel';
import { readLossLog } from '../src/report/read-loss-log';
import type { ModelMetrics, RunMetrics } from '../src/report/run-metrics';
import { writeReport } from '../src/report/write-report';

function model(base: number): ModelMetrics {
  const cmc = Array.from({ length: 20 }, (_, k) => Math.min(1, base + 0.03 * k));
  const protocol = {
    rank1: cmc[0] as number,
    rank5: cmc[4] as number,
    mAP: base - 0.05,
    mAPTrapezoid: base - 0.04,
    mINP: base - 0.2,
    cmc,
  };
  return {
    i2v: protocol,
    v2v: { ...protocol, rank1: protocol.rank1 + 0.05, cmc: cmc.map((value) => Math.min(1, value + 0.05)) },
    galleryFrames: [1, 2, 4, 8].map((frames) => ({
      frames,
      rank1: base + 0.02 * frames,
      mAP: base - 0.05 + 0.02 * frames,
      mAPTrapezoid: base - 0.04 + 0.02 * frames,
    })),
    perCamera: [0, 1, 2, 3].map((camera) => ({ camera, rank1: base + 0.05 * camera, mAP: base, queries: 10 })),
  };
}

const METRICS: RunMetrics = { teacher: model(0.5), student: model(0.6), settings: { command: 'test' } };

/** Distinct opaque colours and the fraction of non-white pixels of a PNG. */
async function inspectPng(path: string) {
  const { data, info } = await sharp(path).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  let ink = 0;
  const colours = new Set<string>();
  for (let i = 0; i < data.length; i += 3) {
    const [r, g, b] = [data[i] as number, data[i + 1] as number, data[i + 2] as number];
    if (r < 240 || g < 240 || b < 240) ink++;
    colours.add(`${r >> 4},${g >> 4},${b >> 4}`);
  }
  return {
    width: info.width,
    height: info.height,
    ink: ink / (info.width * info.height),
    colours: colours.size,
    data,
    channels: info.channels,
  };
}

describe('comparison table and verdict', () => {
  it('prints teacher, student and the difference in points', () => {
    const table = formatComparisonTable(METRICS);
    expect(table).toMatch(/I2V\s+rank-1\s+50\.00\s+60\.00\s+\+10\.00/);
    expect(table).toMatch(/V2V\s+mAPTrapezoid\s+46\.00\s+56\.00\s+\+10\.00/);
    expect(verdict(METRICS)).toBe(
      'The student beats the teacher on I2V (trapezoid mAP +10.00 points, rank-1 +10.00 points).',
    );
    expect(verdict({ teacher: model(0.6), student: model(0.5), settings: {} })).toMatch(
      /^The student does NOT beat the teacher/,
    );
    expect(verdict({ teacher: model(0.6), settings: {} })).toBeUndefined();
  });

  it('adds the no-KD control as a column and judges distillation against it', () => {
    const withBaseline: RunMetrics = { ...METRICS, baseline: model(0.62) };
    expect(formatComparisonTable(withBaseline)).toMatch(/I2V\s+rank-1\s+50\.00\s+60\.00\s+\+10\.00\s+62\.00/);
    expect(verdict(withBaseline)).toMatch(
      /Against the same student trained without KD\/DP \(α = β = 0\), distillation does NOT help \(I2V trapezoid mAP -2\.00, rank-1 -2\.00 points\)\.$/,
    );
    expect(verdict({ ...METRICS, baseline: model(0.55) })).toMatch(
      /distillation helps \(I2V trapezoid mAP \+5\.00, rank-1 \+5\.00 points\)/,
    );
  });
});

describe('noise caveat', () => {
  const withQueries = (
    metrics: ModelMetrics,
    validQueries: number,
    rank1: number,
    mAPTrapezoid: number,
  ): ModelMetrics => ({
    ...metrics,
    i2v: { ...metrics.i2v, validQueries, rank1, mAPTrapezoid },
  });

  it('says what one query is worth and when a difference is within it (36 queries: 2.78 points)', () => {
    const caveat = noiseCaveat(36, { rank1: 100 / 36, mAP: 5 });
    expect(caveat?.pointsPerQuery).toBeCloseTo(2.7778, 4);
    expect(caveat?.withinOneQuery).toEqual({ rank1: true, mAP: false });
    expect(caveat?.text).toBe(
      'One query is 2.78 rank-1 points here (36 queries): the rank-1 difference is within one query (noise), the other is not.',
    );
    expect(noiseCaveat(36, { rank1: -1, mAP: 0.5 })?.text).toMatch(
      /both differences are within one query, so this is no evidence either way/,
    );
    expect(noiseCaveat(100, { rank1: 3, mAP: -2 })?.text).toMatch(
      /^One query is 1\.00 rank-1 points here \(100 queries\): both differences exceed one query\.$/,
    );
    expect(noiseCaveat(undefined, { rank1: 1, mAP: 1 })).toBeUndefined();
    expect(noiseCaveat(0, { rank1: 1, mAP: 1 })).toBeUndefined();
  });

  it('is part of the verdict (the student "beats" the teacher by one query of 36)', () => {
    const teacher = withQueries(model(0.5), 36, 10 / 36, 0.3);
    const student = withQueries(model(0.5), 36, 11 / 36, 0.301);
    const text = verdict({ teacher, student, settings: {} });
    expect(text).toMatch(
      /^The student beats the teacher on I2V \(trapezoid mAP \+0\.10 points, rank-1 \+2\.78 points\)\. /,
    );
    expect(text).toMatch(/One query is 2\.78 rank-1 points here \(36 queries\): both differences are within one query/);
  });
});

describe('writeReport', () => {
  it('writes index.html and real PNG charts from vega-lite', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'vkd-report-'));
    const losses = [0, 1, 2, 3].flatMap((epoch) => [
      { stage: 'teacher' as const, epoch: epoch + 1, term: 'crossEntropy', value: 3 / (epoch + 1) },
      { stage: 'student' as const, epoch: epoch + 1, term: 'logitDistillation', value: 1 / (epoch + 1) },
    ]);
    const output = await writeReport({ directory, metrics: METRICS, losses });
    expect(output.charts.map((path) => path.slice(directory.length + 1))).toEqual([
      'cmc.png',
      'losses.png',
      'gallery-frames.png',
      'per-camera.png',
    ]);
    for (const chart of output.charts) {
      const png = await inspectPng(chart);
      expect(png.width, chart).toBeGreaterThan(400);
      expect(png.height, chart).toBeGreaterThan(200);
      expect(png.ink, chart).toBeGreaterThan(0.01); // axes, lines, labels were drawn
      expect(png.colours, chart).toBeGreaterThan(8); // several series colours, anti-aliasing
    }
    const html = await readFile(output.html, 'utf8');
    expect(html).toContain('<img src="cmc.png"');
    expect(html).toContain('The student beats the teacher on I2V');
    expect(html).toMatch(/<td>I2V<\/td><td>rank-1<\/td><td>50\.00<\/td><td>60\.00<\/td>/);
  });

  it('skips charts without data', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'vkd-report-'));
    const bare: RunMetrics = {
      model: { i2v: { rank1: 0.5, rank5: 0.7, mAP: 0.4, mAPTrapezoid: 0.41, mINP: 0.2 } },
      settings: {},
    };
    const output = await writeReport({ directory, metrics: bare });
    expect(output.charts).toEqual([]);
    expect(await readFile(output.html, 'utf8')).toContain('VKD run report');
  });
});

describe('heat-map panel', () => {
  it('maps 0 to blue, 0.5 to green and 1 to red', () => {
    expect(jetColor(0)).toEqual([0, 0, 0.5]);
    expect(jetColor(0.5)).toEqual([0.5, 1, 0.5]);
    expect(jetColor(1)).toEqual([0.5, 0, 0]);
  });

  it('overlays each map on its frame: hot where the map is 1, cold where it is 0', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'vkd-heat-'));
    const [count, height, width] = [2, 8, 4];
    const frames = new Float32Array(count * height * width * 3); // 0 = the ImageNet mean colour
    const hot = new Float32Array(count * height * width);
    for (let frame = 0; frame < count; frame++) hot[(frame * height + 0) * width + 0] = 1; // top-left pixel of each frame
    const path = join(directory, 'heat.png');
    await writeHeatmapPanel({
      frames,
      count,
      height,
      width,
      columns: [{ title: 'teacher', maps: hot }],
      path,
      scale: 4,
    });
    const { data, width: imageWidth } = await inspectPng(path);
    // Layout: 28 px header, then cells of (width + 2 gap) × scale; column 1 starts at (2 + width + 2) · 4.
    const pixel = (x: number, y: number) =>
      Array.from(data.subarray((y * imageWidth + x) * 3, (y * imageWidth + x) * 3 + 3));
    const top = 28 + 2 * 4;
    const left = (2 + width + 2) * 4;
    const [hr, , hb] = pixel(left + 1, top + 1) as number[];
    const [cr, , cb] = pixel(left + 1 + 8, top + 1 + 16) as number[];
    expect(hr).toBeGreaterThan((hb as number) + 40); // red-ish where the map is 1 (126 vs 52)
    expect(cb).toBeGreaterThan((cr as number) + 40); // blue-ish where it is 0 (116 vs 62)
  });

  it('rejects maps of the wrong size, naming the column', async () => {
    await expect(
      writeHeatmapPanel({
        frames: new Float32Array(24),
        count: 1,
        height: 2,
        width: 4,
        columns: [{ title: 'student', maps: new Float32Array(3) }],
        path: '/tmp/x.png',
      }),
    ).rejects.toThrow(/writeHeatmapPanel.columns\[student\]/);
  });
});

describe('readLossLog', () => {
  it('reads epoch lines of the trainer log, one point per term and the total', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'vkd-log-'));
    const path = join(directory, 'log.jsonl');
    await writeFile(
      path,
      [
        { type: 'train-start', epoch: 0 },
        { type: 'step', epoch: 0, total: 9, losses: { crossEntropy: 9 } },
        { type: 'epoch', epoch: 0, total: 3.5, losses: { crossEntropy: 2.5, triplet: 1 } },
        { type: 'epoch', epoch: 1, total: 'NaN', losses: { crossEntropy: 2 } },
      ]
        .map((entry) => JSON.stringify(entry))
        .join('\n'),
    );
    expect(await readLossLog(path, 'teacher')).toEqual([
      { stage: 'teacher', epoch: 1, term: 'crossEntropy', value: 2.5 },
      { stage: 'teacher', epoch: 1, term: 'triplet', value: 1 },
      { stage: 'teacher', epoch: 1, term: 'total', value: 3.5 },
      { stage: 'teacher', epoch: 2, term: 'crossEntropy', value: 2 },
    ]);
    expect(await readLossLog(join(directory, 'missing.jsonl'), 'student')).toEqual([]);
  });

  it('skips and counts damaged lines (a torn line after a full disk), and keeps the last of a repeated epoch', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'vkd-log-'));
    const path = join(directory, 'log.jsonl');
    const epoch = (index: number, total: number) => JSON.stringify({ type: 'epoch', epoch: index, total, losses: {} });
    await writeFile(
      path,
      `${epoch(0, 4)}\n${epoch(1, 3)}\n{"type":"ep\n${epoch(1, 2.5)}\nnull\n${epoch(2, 2)}\n{"type":"step","tot`,
    );
    const reported: Array<[string, readonly number[]]> = [];
    const points = await readLossLog(path, 'teacher', {
      onDamagedLines: (file, lines) => reported.push([file, lines]),
    });
    expect(points.map((point) => [point.epoch, point.value])).toEqual([
      [1, 4],
      [2, 2.5],
      [3, 2],
    ]);
    expect(reported).toEqual([[path, [3, 5, 7]]]);
  });
});
