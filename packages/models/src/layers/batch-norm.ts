import * as tf from '@tensorflow/tfjs-core';

/** PyTorch BatchNorm defaults, which the VKD checkpoints were trained with. */
export const BATCH_NORM_EPSILON = 1e-5;
export const BATCH_NORM_MOMENTUM = 0.1;

/**
 * How BatchNorm layers normalise during a forward pass:
 * - `moving`: with the moving (running) statistics, PyTorch `eval()`;
 * - `batch-update`: with the statistics of the current batch, and update the moving statistics (PyTorch `train()`);
 * - `batch-frozen`: with the statistics of the current batch, moving statistics untouched (VKD's frozen teacher).
 */
export type BatchNormMode = 'moving' | 'batch-update' | 'batch-frozen';

/** The four tensors of one BatchNorm layer. */
export interface BatchNormVariables {
  weight: tf.Variable;
  bias: tf.Variable;
  runningMean: tf.Variable;
  runningVar: tf.Variable;
}

/** PyTorch's moving-statistics update: `m ← (1−μ)·m + μ·batch`, with the unbiased batch variance. */
function updateMovingStatistics(bn: BatchNormVariables, mean: tf.Tensor, variance: tf.Tensor, count: number): void {
  const unbiased = count > 1 ? tf.mul(variance, count / (count - 1)) : variance;
  const blend = (moving: tf.Variable, batch: tf.Tensor) =>
    tf.add(tf.mul(moving, 1 - BATCH_NORM_MOMENTUM), tf.mul(batch, BATCH_NORM_MOMENTUM));
  bn.runningMean.assign(blend(bn.runningMean, mean));
  bn.runningVar.assign(blend(bn.runningVar, unbiased));
}

/**
 * Column sums of `[M, C]` as one matrix product `1ᵀ·x`: reductions over a non-innermost axis make tfjs transpose the
 * whole tensor first (3-4× slower on wasm), while a [1, M]×[M, C] matMul runs on the fast GEMM.
 * @returns [C].
 */
function columnSum(x: tf.Tensor, rows: number, scale = 1): tf.Tensor1D {
  return tf.reshape(tf.matMul(tf.fill([1, rows], scale), x as tf.Tensor2D), [-1]) as tf.Tensor1D;
}

/**
 * Batch-statistics BatchNorm of `[M, C]` rows (a 4-D NHWC map reshaped to `[N·H·W, C]`, or BatchNorm1d input).
 * The backward pass is the closed form (7 full-size ops instead of autodiff through `moments`), and the moving
 * statistics are updated inside the forward computation when `update` is true, so it is safe inside
 * `tf.variableGrads` / `optimizer.minimize` closures and inside `tf.tidy`.
 * @param x [M, C] float32.
 * @returns [M, C] normalised, scaled and shifted (caller disposes).
 */
export function batchStatisticsNorm(x: tf.Tensor2D, bn: BatchNormVariables, update: boolean): tf.Tensor2D {
  const count = x.shape[0];
  const normalise = tf.customGrad(((input: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor, save: tf.GradSaveFunc) => {
    // Two-pass statistics (as PyTorch), reusing the centred input for the normalisation: 6 full-size ops.
    const mean = columnSum(input, count, 1 / count);
    const centered = tf.sub(input, mean);
    const variance = columnSum(tf.square(centered), count, 1 / count);
    if (update) updateMovingStatistics(bn, mean, variance, count);
    const invStd = tf.rsqrt(tf.add(variance, BATCH_NORM_EPSILON));
    const scale = tf.mul(weight, invStd);
    const value = tf.add(tf.mul(centered, scale), bias);
    save([centered, invStd, scale]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [savedCentered, savedInvStd, savedScale] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
        const sumDy = columnSum(dy, count);
        const sumDyCentered = columnSum(tf.mul(dy, savedCentered), count);
        // dx = scale·(dy − Σdy/M − centered·Σ(dy·centered)·invStd²/M)
        const meanTerm = tf.mul(savedScale, tf.div(sumDy, count));
        const centeredTerm = tf.mul(savedScale, tf.mul(sumDyCentered, tf.div(tf.square(savedInvStd), count)));
        const dx = tf.sub(tf.sub(tf.mul(dy, savedScale), meanTerm), tf.mul(savedCentered, centeredTerm));
        return [dx, tf.mul(sumDyCentered, savedInvStd), sumDy];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return normalise(x, bn.weight, bn.bias) as tf.Tensor2D;
}

/**
 * BatchNorm over the last axis of a tensor of any rank (NHWC maps or [N, C] features).
 * @returns same shape as `x` (caller disposes).
 */
export function batchNorm<T extends tf.Tensor>(x: T, bn: BatchNormVariables, mode: BatchNormMode): T {
  if (mode === 'moving') return tf.batchNorm(x, bn.runningMean, bn.runningVar, bn.bias, bn.weight, BATCH_NORM_EPSILON) as T;
  const channels = x.shape[x.rank - 1] as number;
  const rows = tf.reshape(x, [-1, channels]) as tf.Tensor2D;
  return tf.reshape(batchStatisticsNorm(rows, bn, mode === 'batch-update'), x.shape) as T;
}
