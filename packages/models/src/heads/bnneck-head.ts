import * as tf from '@tensorflow/tfjs-core';
import { batchNorm } from '../layers/batch-norm';
import { batchNormVariables, type ForwardContext } from '../layers/conv-unit';
import { batchNormSpecs, linearSpecs, type ParameterSpec } from '../parameters';

/** Key prefix of the VKD `ClassificationLayer` (BNNeck + classifier). */
export const HEAD_PREFIX = 'classifier.';
const BOTTLENECK = 'classifier.bottleneck';
const CLASSIFIER = 'classifier.classifier';

/**
 * Specs of the BNNeck head: BatchNorm1d(D) with its bias frozen at 0 (not trainable), and a bias-free
 * Linear(D, I) initialised N(0, 0.001²) (`ClassificationLayer`, `model/net.py` of aimagelab/VKD).
 */
export function bnneckSpecs(embeddingDim: number, numIdentities: number): ParameterSpec[] {
  return [
    ...batchNormSpecs(BOTTLENECK, embeddingDim, { frozenBias: true }),
    ...linearSpecs(CLASSIFIER, embeddingDim, numIdentities, { bias: false, init: { kind: 'normal', std: 0.001 } }),
  ];
}

/**
 * Per-frame logits `classifier(BN(features))`; BatchNorm1d statistics are over all B·T frames in batch modes.
 * @param features [B·T, D] pre-BNNeck pooled frame features. @returns [B·T, I] (call inside `tf.tidy`).
 */
export function bnneckForward(features: tf.Tensor2D, context: ForwardContext): tf.Tensor2D {
  const normalised = batchNorm(features, batchNormVariables(context, BOTTLENECK), context.mode);
  return tf.matMul(normalised, context.variable(`${CLASSIFIER}.weight`));
}
