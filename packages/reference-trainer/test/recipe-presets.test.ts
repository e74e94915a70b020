import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { datasetEntry } from '@vkd/datasets';
import type { EvaluationReport, RankingSummary } from '@vkd/trainer';
import { describe, expect, it } from 'vitest';
import { presetNames, presetRequiresImagenetWeights, presetValues } from '../src/config/presets';
import { dataSettings, distillSettings, teacherSettings } from '../src/config/stage-settings';
import { comparisonRows, formatModelTable } from '../src/report/comparison-table';
import { modelMetricsFromReport } from '../src/run/evaluate-run';
import { loadRunDataset } from '../src/run/load-run-dataset';

function summary(value: number): RankingSummary {
  return {
    rank1: value,
    rank5: value,
    rank10: value,
    mAP: value,
    mAPTrapezoid: value,
    mINP: value,
    cmc: [value],
    validQueries: 2,
    skippedQueries: 0,
    perCamera: [],
  };
}

describe("presets of the authors' commands.txt, plus veri-resnet18 and atrw", () => {
  it('has veri-resnet18 (commands.txt trains a VeRi ResNet-18 teacher) with the VeRi teacher schedule', () => {
    expect(presetNames()).toContain('veri-resnet18');
    expect(teacherSettings(presetValues('veri-resnet18', 'teacher'))).toMatchObject({
      framesPerTracklet: 1,
      identitiesPerBatch: 18,
      milestones: [200, 250],
    });
    expect(presetValues('veri-resnet18', 'evaluate')).toMatchObject({
      dataset: 'veri-776',
      height: 224,
      width: 224,
      backbone: 'resnet18',
    });
  });

  it("has the DenseNet-121 and MobileNet-V2 runs of commands.txt on MARS, Duke and VeRi; MobileNet's student needs no ImageNet", () => {
    for (const prefix of ['mars', 'duke', 'veri']) {
      for (const backbone of ['densenet121', 'mobilenet'])
        expect(presetValues(`${prefix}-${backbone}`, 'evaluate'), `${prefix}-${backbone}`).toMatchObject({ backbone });
    }
    expect(teacherSettings(presetValues('mars-densenet121', 'teacher')).milestones).toEqual([100, 200]);
    const preset = (name: string, stage: 'teacher' | 'distill') => ({ ...presetValues(name, stage), preset: name });
    expect(() => teacherSettings(preset('mars-mobilenet', 'teacher'))).toThrow(/mobilenet_v2-b0353104\.pth/);
    // The authors' MobileNet student resets only its head; DenseNet's reloads denseblock4 from ImageNet.
    expect(distillSettings(preset('mars-mobilenet', 'distill')).imagenetStart).toEqual({ kind: 'unused' });
    expect(() => distillSettings(preset('duke-densenet121', 'distill'))).toThrow(/densenet121-a639ec97\.pth/);
  });

  it('atrw: 224×224, teacher N=1, ImageNet required; tigers and vehicles erase with aspect 0.7–1.4, persons 0.3–3.3 (default)', () => {
    expect(presetValues('atrw', 'evaluate')).toMatchObject({ dataset: 'atrw', height: 224, width: 224, testFrames: 1 });
    expect(teacherSettings(presetValues('atrw', 'teacher'))).toMatchObject({ framesPerTracklet: 1 });
    expect(presetRequiresImagenetWeights('atrw')).toBe(true);
    expect(datasetEntry('atrw').erasingAspect).toEqual([0.7, 1.4]);
    expect(datasetEntry('veri-776').erasingAspect).toEqual([0.7, 1.4]);
    expect(datasetEntry('mars').erasingAspect).toBeUndefined();
    expect(datasetEntry('atrw').resize).toBe('letterbox');
    expect(datasetEntry('mars').resize).toBeUndefined();
  });

  it('duke-* presets group tracklets as the authors (consecutive files of one identity and camera)', () => {
    for (const name of presetNames().filter((preset) => preset.startsWith('duke-'))) {
      expect(dataSettings({ ...presetValues(name, 'teacher'), root: '/d' }).trackletGrouping, name).toBe('vkd');
      expect(distillSettings(presetValues(name, 'distill'))).toBeDefined();
    }
    expect(dataSettings({ ...presetValues('mars-resnet50', 'teacher'), root: '/d' }).trackletGrouping).toBeUndefined();
  });

  it("--tracklet-grouping is checked against the dataset's table entry before loading", async () => {
    const root = await mkdtemp(join(tmpdir(), 'vkd-grouping-'));
    await expect(loadRunDataset('mars', root, { trackletGrouping: 'vkd' })).rejects.toThrow(
      /Invalid --tracklet-grouping: "vkd". mars offers no choice of tracklet grouping/,
    );
    await expect(loadRunDataset('duke-video', root, { trackletGrouping: 'by-camera' })).rejects.toThrow(
      /duke-video groups tracklets by one of: folder, vkd/,
    );
    // A valid rule reaches the loader (which then finds no Duke folders there).
    await expect(loadRunDataset('duke-video', root, { trackletGrouping: 'vkd' })).rejects.toThrow(
      /DatasetNotFoundError|not found/i,
    );
  });
});

describe('VeRi I2I and V2I are kept in metrics.json and the tables', () => {
  const report: EvaluationReport = {
    dataset: 'veri-776',
    protocols: { i2v: summary(0.4), v2v: summary(0.5), i2i: summary(0.3), v2i: summary(0.2) },
    settings: {
      framesPerTracklet: 8,
      metric: 'cosine',
      embedding: 'pre-bnneck',
      galleryMode: 'track',
      queries: 2,
      gallery: 2,
    },
  };

  it('writes all four protocols and prints a row for each', () => {
    const metrics = modelMetricsFromReport(report);
    expect([metrics.i2v.mAP, metrics.v2v?.mAP, metrics.i2i?.mAP, metrics.v2i?.mAP]).toEqual([0.4, 0.5, 0.3, 0.2]);
    const table = formatModelTable(metrics);
    expect(table).toMatch(/^I2I\s+30\.00/m);
    expect(table).toMatch(/^V2I\s+20\.00/m);
    const rows = comparisonRows({ teacher: metrics, student: metrics, settings: {} });
    expect(new Set(rows.map((row) => row[0]))).toEqual(new Set(['I2V', 'V2V', 'I2I', 'V2I']));
  });

  it('an image-only set (ATRW) keeps its I2I in the i2v slot only, not twice', () => {
    const metrics = modelMetricsFromReport({ ...report, dataset: 'atrw', protocols: { i2i: summary(0.3) } });
    expect(metrics.i2v.mAP).toBe(0.3);
    expect(metrics.i2i).toBeUndefined();
  });
});
