import { InvalidOptionError } from '@vkd/core';
import type { Tracklet } from '../types';
import type { ReadImageOptions } from './read-image';
import { createTrackletLoader, type TrackletBatch, type TrackletLoaderOptions } from './tracklet-loader';

/** Options of {@link createEvaluationLoader}. */
export interface EvaluationLoaderOptions {
  /** N frames per tracklet, chosen by the chunk-first rule (VKD's test rule). */
  readonly framesPerTracklet: number;
  /** Tracklets per batch (the authors: 32 tracklets × 8 frames). */
  readonly trackletsPerBatch: number;
  /** `[H, W]`. */
  readonly imageSize: readonly [number, number];
  /** How frames are resized (`decodeImage`'s `resize`; default `'pillow'`, `'letterbox'` for ATRW). */
  readonly resize?: ReadImageOptions['resize'];
  /** Frame worker threads (see `createTrackletLoader`'s `workers`; default all cores but one). */
  readonly workers?: TrackletLoaderOptions['workers'];
  /** Batches prepared ahead of the consumer (see `createTrackletLoader`'s `prefetch`). */
  readonly prefetch?: TrackletLoaderOptions['prefetch'];
}

/**
 * Inference batches over every tracklet in order, in consecutive groups of `trackletsPerBatch`: chunk-first frames,
 * no augmentation (resize + normalise only). This is the batch source `evaluateModel` of `@vkd/trainer` takes.
 * @throws InvalidOptionError for a `trackletsPerBatch` that is not an integer >= 1, and bad loader options (see
 * `createTrackletLoader`).
 */
export function createEvaluationLoader(
  tracklets: readonly Tracklet[],
  options: EvaluationLoaderOptions,
): AsyncIterable<TrackletBatch> {
  if (!(Number.isInteger(options.trackletsPerBatch) && options.trackletsPerBatch >= 1)) {
    throw new InvalidOptionError(
      'createEvaluationLoader.trackletsPerBatch',
      options.trackletsPerBatch,
      'Use an integer >= 1.',
    );
  }
  const batches: number[][] = [];
  for (let start = 0; start < tracklets.length; start += options.trackletsPerBatch) {
    const size = Math.min(options.trackletsPerBatch, tracklets.length - start);
    batches.push(Array.from({ length: size }, (_, offset) => start + offset));
  }
  return createTrackletLoader({
    tracklets,
    batches,
    framesPerTracklet: options.framesPerTracklet,
    strategy: 'chunk-first',
    imageSize: [options.imageSize[0], options.imageSize[1]],
    augment: false,
    seed: 0,
    ...(options.resize ? { resize: options.resize } : {}),
    ...(options.workers === undefined ? {} : { workers: options.workers }),
    ...(options.prefetch === undefined ? {} : { prefetch: options.prefetch }),
  });
}
