import { DatasetFormatError } from '@vkd/core';
import { computeStatistics } from './statistics';
import type { DatasetEvaluation, ReidDataset, Tracklet } from './types';

/** Raw splits as a loader reads them (original identities everywhere). */
export interface RawSplits {
  readonly name: string;
  readonly root: string;
  readonly protocol: string;
  readonly train: readonly Tracklet[];
  readonly query: readonly Tracklet[];
  readonly gallery: readonly Tracklet[];
  readonly evaluation?: DatasetEvaluation;
  readonly skippedFrames?: number;
  readonly skippedTracklets?: number;
  /** Splits that may legitimately be empty (e.g. none). */
  readonly allowEmpty?: readonly ('train' | 'query' | 'gallery')[];
  /** Drop tracklets with fewer frames (default 0). */
  readonly minFrames?: number;
}

/**
 * Finishes a dataset: relabels train identities to 0..I-1 in ascending order of the original id (deterministic),
 * keeps query/gallery ids, drops tracklets below `minFrames`, counts cameras and computes statistics.
 * @throws DatasetFormatError when a split is empty.
 */
export function buildDataset(raw: RawSplits): ReidDataset {
  const minFrames = raw.minFrames ?? 0;
  const keep = (tracklets: readonly Tracklet[]) =>
    minFrames > 0 ? tracklets.filter((t) => t.frames.length >= minFrames) : tracklets;
  const trainRaw = keep(raw.train);
  const query = keep(raw.query);
  const gallery = keep(raw.gallery);
  for (const [split, tracklets] of [
    ['train', trainRaw],
    ['query', query],
    ['gallery', gallery],
  ] as const) {
    if (tracklets.length === 0 && !(raw.allowEmpty ?? []).includes(split)) {
      throw new DatasetFormatError(
        raw.root,
        `the ${split} split of ${raw.name} is empty${minFrames > 0 ? ` after minFrames=${minFrames}` : ''}. Check the dataset layout (see the @vkd/datasets README) or lower minFrames.`,
      );
    }
  }
  const originalIds = [...new Set(trainRaw.map((t) => t.identity))].sort((a, b) => a - b);
  const label = new Map(originalIds.map((id, index) => [id, index]));
  const train = trainRaw.map((t) => ({
    ...t,
    identity: label.get(t.identity) as number,
    originalIdentity: t.identity,
  }));
  const cameras = new Set([...train, ...query, ...gallery].map((t) => t.camera));
  const dataset: ReidDataset = {
    name: raw.name,
    root: raw.root,
    train,
    query,
    gallery,
    numTrainIdentities: originalIds.length,
    numCameras: cameras.size === 0 ? 0 : Math.max(...cameras) + 1,
    protocol: raw.protocol,
    statistics: computeStatistics({ train, query, gallery }, raw.skippedFrames ?? 0, raw.skippedTracklets ?? 0),
    ...(raw.evaluation ? { evaluation: raw.evaluation } : {}),
  };
  return dataset;
}
