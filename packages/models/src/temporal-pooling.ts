import * as tf from '@tensorflow/tfjs-core';

/**
 * Mean over the T frames of each tracklet (VKD's `MeanAggregator`; also used for the frame-averaged logits).
 * @param perFrame [B·T, F], frames of one tracklet contiguous. @returns [B, F] (call inside `tf.tidy`).
 */
export function temporalMean(perFrame: tf.Tensor2D, tracklets: number, frames: number): tf.Tensor2D {
  const features = perFrame.shape[1];
  if (frames === 1) return perFrame;
  return tf.mean(tf.reshape(perFrame, [tracklets, frames, features]), 1) as tf.Tensor2D;
}
