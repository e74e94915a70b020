import * as tf from '@tensorflow/tfjs-core';
import { InvalidOptionError } from '@vkd/core';
import { oneHotRows } from './one-hot';
import { euclideanDistances } from './pairwise-distance';
import { stableSoftplus } from './stable-softplus';
import { checkLabels, checkMatrix, checkNumber, checkOptionKeys } from './validate';

/** `'soft'`: `softplus(d⁺ − d⁻)`; a number m ≥ 0: hinge `max(0, d⁺ − d⁻ + m)`. */
export type TripletMargin = 'soft' | number;

/** Options of {@link batchHardTriplet}. */
export interface BatchHardTripletOptions {
  /** Default `'soft'` (VKD: `OnlineTripletLoss('soft', batch_hard=True)`). */
  margin?: TripletMargin;
}

/** Added to same-identity distances before taking the hardest negative (the authors' constant). */
export const SAME_IDENTITY_PENALTY = 1e5;

const OPTION_KEYS = ['margin'] as const;

/** Validates {@link BatchHardTripletOptions} and fills defaults. @throws InvalidOptionError */
export function validateBatchHardTripletOptions(
  options: BatchHardTripletOptions | undefined,
  where = 'batchHardTriplet.options',
): Required<BatchHardTripletOptions> {
  checkOptionKeys(options, where, OPTION_KEYS);
  const margin = options?.margin ?? 'soft';
  if (margin === 'soft') return { margin };
  if (typeof margin !== 'number')
    throw new InvalidOptionError(`${where}.margin`, margin, "Expected 'soft' or a finite number ≥ 0.");
  return { margin: checkNumber(margin, `${where}.margin`, { min: 0 }) };
}

/**
 * Picks, per row, the entry at the row's arg-max (or arg-min) and keeps the gradient on that single entry.
 * `tf.max`'s own gradient goes to every tied entry; PyTorch's `max(1)[0]` sends it to the first one, as here.
 */
function selectPerRow(candidates: tf.Tensor2D, pick: 'max' | 'min'): tf.Tensor1D {
  const index = pick === 'max' ? tf.argMax(candidates, 1) : tf.argMin(candidates, 1);
  const selector = oneHotRows(index as tf.Tensor1D, candidates.shape[1]);
  return tf.sum(tf.mul(candidates, selector), 1) as tf.Tensor1D;
}

/** Unchecked core of {@link batchHardTriplet}; callers validate first. */
export function computeBatchHardTriplet(
  embeddings: tf.Tensor2D,
  labels: tf.Tensor1D,
  margin: TripletMargin,
): tf.Scalar {
  return tf.tidy(() => {
    const batchSize = embeddings.shape[0];
    const distances = euclideanDistances(embeddings); // [B, B]
    const sameIdentity = tf.equal(tf.expandDims(labels, 1), tf.expandDims(labels, 0)); // [B, B] bool
    const notSelf = tf.logicalNot(tf.cast(tf.eye(batchSize), 'bool'));
    const positiveMask = tf.cast(tf.logicalAnd(sameIdentity, notSelf), 'float32');
    // Hardest positive: max_j d_ij·[y_j = y_i, j ≠ i]. An anchor without positive gets d⁺ = 0 and no gradient.
    const hardestPositive = selectPerRow(tf.mul(distances, positiveMask), 'max');
    // Hardest negative: min_j (d_ij + 1e5·[y_j = y_i]). Without negatives d⁻ ≥ 1e5, so that anchor's loss is ~0.
    const negativeCandidates = tf.add(distances, tf.mul(tf.cast(sameIdentity, 'float32'), SAME_IDENTITY_PENALTY));
    const hardestNegative = selectPerRow(negativeCandidates as tf.Tensor2D, 'min');
    const difference = tf.sub(hardestPositive, hardestNegative); // [B]
    // The authors write log(1 + exp(z)) (overflows for z > 88 in float32); softplus is the same function, written
    // so that it also keeps its precision for very negative z (well-separated anchors).
    // Hinge: tf.maximum (not tf.relu) so that, like torch.clamp(min=0), the gradient passes at exactly z + m = 0.
    const perAnchor = margin === 'soft' ? stableSoftplus(difference) : tf.maximum(tf.add(difference, margin), 0);
    return tf.mean(perAnchor) as tf.Scalar;
  });
}

/**
 * Batch-hard triplet loss (Hermans et al., "In Defense of the Triplet Loss", 2017) as VKD trains it:
 * `L_TR = (1/B) Σ_i softplus(max_{j: y_j = y_i, j≠i} d_ij − min_{k: y_k ≠ y_i} d_ik)` on the Euclidean distances
 * `d_ij = sqrt(‖e_i − e_j‖² + 1e-12)` of unnormalised embeddings. Mining uses masks over the `[B, B]` distance
 * matrix (no per-anchor loop).
 *
 * Edge cases, identical to `aimagelab/VKD: model/loss.py` `OnlineTripletLoss`: an anchor whose identity occurs once
 * in the batch has d⁺ = 0 (and no positive gradient), so it still pushes its hardest negative away with weight
 * `sigmoid(−d⁻)`; an anchor with no negative gets d⁻ = d + 1e5, a loss of ~0. Ties go to the first index.
 *
 * Reference: VKD (Porrello et al., ECCV 2020) §3, `model/loss.py` L118-205.
 * @param embeddings `[B, D]` float32 (VKD: the pre-BNNeck set embedding, averaged over frames).
 * @param labels `[B]` int32 identities (any integers).
 * @param options `margin`: `'soft'` (default) or a number m ≥ 0 for `max(0, d⁺ − d⁻ + m)`.
 * @returns scalar float32 loss (caller disposes).
 * @throws ShapeMismatchError, DtypeMismatchError (embeddings float32, labels int32), InvalidOptionError.
 */
export function batchHardTriplet(
  embeddings: tf.Tensor,
  labels: tf.Tensor,
  options?: BatchHardTripletOptions,
): tf.Scalar {
  const { margin } = validateBatchHardTripletOptions(options);
  const bindings = {};
  const checkedEmbeddings = checkMatrix(embeddings, 'batchHardTriplet.embeddings', 'D', bindings);
  const checkedLabels = checkLabels(labels, 'batchHardTriplet.labels', bindings);
  return computeBatchHardTriplet(checkedEmbeddings, checkedLabels, margin);
}
