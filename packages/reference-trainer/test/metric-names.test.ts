import { describe, expect, it } from 'vitest';
import type { EvaluationReport, RankingSummary } from '@vkd/trainer';
import { modelMetricsFromReport } from '../src/run/evaluate-run';

function summary(mAP: number, mAPTrapezoid: number): RankingSummary {
  return {
    rank1: 0.5,
    rank5: 0.7,
    rank10: 0.8,
    mAP,
    mAPTrapezoid,
    mINP: 0.1,
    cmc: [0.5, 0.6, 0.7, 0.7, 0.7],
    validQueries: 4,
    skippedQueries: 0,
    perCamera: [
      { camera: 0, queries: 3, rank1: 2 / 3, mAP: 0.6 },
      { camera: 5, queries: 1, rank1: 0, mAP: 0.2 },
    ],
  };
}

const REPORT: EvaluationReport = {
  dataset: 'mars',
  protocols: { i2v: summary(0.41, 0.43), v2v: summary(0.51, 0.53) },
  galleryFramesSweep: [{ frames: 2, i2v: summary(0.31, 0.33), v2v: summary(0.61, 0.63) }],
  settings: {
    framesPerTracklet: 8,
    metric: 'cosine',
    embedding: 'pre-bnneck',
    galleryMode: 'official',
    queries: 4,
    gallery: 9,
  },
};

describe('one name per metric in metrics.json', () => {
  it('galleryFrames[] holds mAP (non-interpolated) and mAPTrapezoid under their own names', () => {
    const metrics = modelMetricsFromReport(REPORT, 'mars');
    expect(metrics.galleryFrames).toEqual([{ frames: 2, rank1: 0.5, mAP: 0.61, mAPTrapezoid: 0.63 }]);
    expect(metrics.i2v.mAP).toBe(0.41);
    expect(metrics.i2v.mAPTrapezoid).toBe(0.43);
  });

  it('names per-camera results as the dataset names its cameras, with query counts', () => {
    const metrics = modelMetricsFromReport(REPORT, 'mars');
    expect(metrics.perCamera).toEqual([
      { camera: 0, cameraName: 'C1', rank1: 2 / 3, mAP: 0.6, queries: 3 },
      { camera: 5, cameraName: 'C6', rank1: 0, mAP: 0.2, queries: 1 },
    ]);
    expect(modelMetricsFromReport(REPORT, 'veri-776').perCamera?.map((entry) => entry.cameraName)).toEqual([
      'c001',
      'c006',
    ]);
  });
});
