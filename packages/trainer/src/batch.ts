import * as tf from '@tensorflow/tfjs-core';
import { ShapeMismatchError } from '@vkd/core';

/**
 * The fields of `TrackletBatch` (from `createTrackletLoader` of `@vkd/datasets/node`) that the trainer reads:
 * typed arrays, no tensors. Any `TrackletBatch` is a `BatchArrays`.
 */
export interface BatchArrays {
  /** `[B, T, H, W, 3]` float32, ImageNet-normalised RGB, row-major. */
  readonly frames: Float32Array;
  readonly shape: readonly [number, number, number, number, number] | readonly number[];
  /** `[B]` identities (train: 0..I-1). */
  readonly identities: Int32Array;
  /** `[B]` 0-based cameras. */
  readonly cameras: Int32Array;
  /** `[B]` index of each tracklet in the list the loader was given. */
  readonly trackletIndices: Int32Array;
}

/** Checks a batch's shape against its arrays. @returns `[B, T, H, W, C]`. @throws ShapeMismatchError naming `where`. */
export function checkBatch(batch: BatchArrays, where: string): [number, number, number, number, number] {
  const shape = [...batch.shape];
  if (shape.length !== 5 || shape.some((dim) => !Number.isInteger(dim) || dim < 1)) {
    throw new ShapeMismatchError(`${where}.shape`, '[B, T, H, W, 3]', `[${shape.join(', ')}]`);
  }
  const [b, t, h, w, c] = shape as [number, number, number, number, number];
  if (batch.frames.length !== b * t * h * w * c) {
    throw new ShapeMismatchError(
      `${where}.frames`,
      `${b * t * h * w * c} values for [${shape.join(', ')}]`,
      `${batch.frames.length} values`,
    );
  }
  if (batch.identities.length !== b)
    throw new ShapeMismatchError(`${where}.identities`, `[${b}]`, `[${batch.identities.length}]`);
  return [b, t, h, w, c];
}

/** The batch's frames and labels as tensors (caller disposes): frames `[B, T, H, W, 3]`, labels `[B]` int32. */
export function batchTensors(batch: BatchArrays, where: string): { frames: tf.Tensor5D; labels: tf.Tensor1D } {
  const shape = checkBatch(batch, where);
  return { frames: tf.tensor5d(batch.frames, shape, 'float32'), labels: tf.tensor1d(batch.identities, 'int32') };
}
