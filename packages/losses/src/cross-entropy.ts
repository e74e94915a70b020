import * as tf from '@tensorflow/tfjs-core';
import { oneHotRows } from './one-hot';
import { checkLabels, checkMatrix, checkNumber, checkOptionKeys } from './validate';

/** Options of {@link crossEntropy}. */
export interface CrossEntropyOptions {
  /**
   * Label smoothing ε in [0, 1): the target is `(1 − ε)·onehot + ε/I`, as PyTorch's
   * `CrossEntropyLoss(label_smoothing=ε)` and the authors' (unused) `SmoothedCCE`. Default 0, as VKD trains.
   */
  labelSmoothing?: number;
}

const OPTION_KEYS = ['labelSmoothing'] as const;

/** Validates {@link CrossEntropyOptions} and fills defaults. @throws InvalidOptionError */
export function validateCrossEntropyOptions(
  options: CrossEntropyOptions | undefined,
  where = 'crossEntropy.options',
): Required<CrossEntropyOptions> {
  checkOptionKeys(options, where, OPTION_KEYS);
  const labelSmoothing = checkNumber(options?.labelSmoothing ?? 0, `${where}.labelSmoothing`, { min: 0, max: 1 });
  return { labelSmoothing };
}

/** Unchecked core of {@link crossEntropy}; callers validate first. */
export function computeCrossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D, labelSmoothing: number): tf.Scalar {
  return tf.tidy(() => {
    const numClasses = logits.shape[1];
    const logProbabilities = tf.logSoftmax(logits); // [B, I]
    const oneHot = oneHotRows(labels, numClasses); // [B, I]; all-zero rows for out-of-range labels
    const target =
      labelSmoothing === 0 ? oneHot : tf.add(tf.mul(oneHot, 1 - labelSmoothing), labelSmoothing / numClasses);
    const perSample = tf.neg(tf.sum(tf.mul(target, logProbabilities), 1)); // [B]
    const loss = tf.mean(perSample);
    // PyTorch raises on a label outside [0, I); a synchronous tensor function cannot read labels back, so the
    // loss turns NaN instead of silently ignoring the sample (its one-hot row is all zeros).
    const outOfRange = tf.any(tf.logicalOr(tf.less(labels, 0), tf.greaterEqual(labels, numClasses)));
    return tf.where(outOfRange, tf.scalar(Number.NaN), loss) as tf.Scalar;
  });
}

/**
 * Softmax cross-entropy averaged over the batch: `L_CE = −(1/B) Σ_i Σ_c q_ic · log softmax(z_i)_c`, with
 * `q_i = onehot(y_i)` (or its smoothed version).
 *
 * Reference: VKD (Porrello et al., ECCV 2020) §3; `aimagelab/VKD: tools/train_v2v.py` and
 * `tools/train_distill.py` use `nn.CrossEntropyLoss(reduction='mean')` on the frame-averaged logits.
 * @param logits `[B, I]` float32 class scores (VKD: classifier(BNNeck(x)) averaged over frames).
 * @param labels `[B]` int32 training identities in `[0, I)`. A label outside that range makes the loss NaN.
 * @param options `labelSmoothing` (default 0).
 * @returns scalar float32 loss (caller disposes).
 * @throws ShapeMismatchError if the shapes are not `[B, I]` / `[B]` with B ≥ 1; DtypeMismatchError for
 *   non-float32 logits or non-int32 labels; InvalidOptionError for a bad option.
 */
export function crossEntropy(logits: tf.Tensor, labels: tf.Tensor, options?: CrossEntropyOptions): tf.Scalar {
  const { labelSmoothing } = validateCrossEntropyOptions(options);
  const bindings = {};
  const checkedLogits = checkMatrix(logits, 'crossEntropy.logits', 'I', bindings);
  const checkedLabels = checkLabels(labels, 'crossEntropy.labels', bindings);
  return computeCrossEntropy(checkedLogits, checkedLabels, labelSmoothing);
}
