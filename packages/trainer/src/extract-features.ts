import * as tf from '@tensorflow/tfjs-core';
import type { ReidModel } from '@vkd/models';
import { checkBatch, type BatchArrays } from './batch';

/** Set features of N tracklets, row-major, plus their labels. */
export interface ExtractedFeatures {
  /** `[N, D]` pre-BNNeck set embeddings (mean of frame features), row-major. */
  features: Float32Array;
  /** D. */
  dim: number;
  /** N. */
  count: number;
  identities: Int32Array;
  cameras: Int32Array;
  /** Index of each row's tracklet in the list the loader was given. */
  trackletIndices: Int32Array;
}

/**
 * Runs the model in inference mode (BN moving statistics) over every batch and returns the pre-BNNeck set
 * embeddings as typed arrays: each batch's `[B, D]` tensor is copied to host memory with `await data()` and
 * disposed at once, so device memory holds one batch at a time.
 * @param batches e.g. `createTrackletLoader({ …, strategy: 'chunk-first', framesPerTracklet: 8, augment: false })`.
 * @param options.onBatch called after each batch with its tracklet and frame counts (progress bars).
 * @returns rows in batch order. @throws ShapeMismatchError for a malformed batch.
 */
export async function extractFeatures(
  model: Pick<ReidModel, 'forward'>,
  batches: AsyncIterable<BatchArrays> | Iterable<BatchArrays>,
  options: { onBatch?: (progress: { tracklets: number; frames: number }) => void } = {},
): Promise<ExtractedFeatures> {
  const chunks: Float32Array[] = [];
  const identities: number[] = [];
  const cameras: number[] = [];
  const trackletIndices: number[] = [];
  let dim = 0;
  for await (const batch of batches) {
    const frames = tf.tensor5d(batch.frames, checkBatch(batch, 'extractFeatures.batch'), 'float32');
    let embeddings: tf.Tensor | undefined;
    try {
      embeddings = tf.tidy(() => model.forward(frames, { training: false }).embeddings);
      dim = embeddings.shape[1] as number;
      chunks.push((await embeddings.data()) as Float32Array);
    } finally {
      frames.dispose();
      if (embeddings) embeddings.dispose();
    }
    identities.push(...batch.identities);
    cameras.push(...batch.cameras);
    trackletIndices.push(...batch.trackletIndices);
    options.onBatch?.({
      tracklets: batch.shape[0] as number,
      frames: (batch.shape[0] as number) * (batch.shape[1] as number),
    });
  }
  const count = identities.length;
  const features = new Float32Array(count * dim);
  let offset = 0;
  for (const chunk of chunks) {
    features.set(chunk, offset);
    offset += chunk.length;
  }
  return {
    features,
    dim,
    count,
    identities: Int32Array.from(identities),
    cameras: Int32Array.from(cameras),
    trackletIndices: Int32Array.from(trackletIndices),
  };
}
