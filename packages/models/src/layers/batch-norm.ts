import * as tf from '@tensorflow/tfjs-core';
import { BATCH_NORM_TRAINING_GRAD_KERNEL, BATCH_NORM_TRAINING_KERNEL } from '@vkd/core';
import type { BatchNormTrainingAttrs, BatchNormTrainingGradAttrs } from '@vkd/core';
import { gradientReleaser, releaseSaved } from './backward-release';
import { legacyTrainingMemory } from './training-memory';

/** PyTorch BatchNorm defaults, which the VKD checkpoints were trained with. */
export const BATCH_NORM_EPSILON = 1e-5;
/** PyTorch's BatchNorm momentum (the weight of a new batch in the moving statistics). */
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

/** What follows the BatchNorm inside the same op: `relu(bn(x) + shortcut)` (a residual block's end) or `relu(bn(x))`. */
export interface NormTail {
  /** Apply a ReLU after the (BatchNorm + shortcut). */
  relu: boolean;
  /** Residual added after the BatchNorm, same shape as the output. */
  shortcut?: tf.Tensor;
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

/** `[..., C]` viewed as `[M, C]` rows (a reshape shares the data). */
function asRows(x: tf.Tensor): tf.Tensor2D {
  return tf.reshape(x, [-1, x.shape[x.rank - 1] as number]) as tf.Tensor2D;
}

/** Batch statistics of a normalisation, as saved for the backward pass. */
export interface BatchMoments {
  /** [C] batch mean over all leading axes. */
  mean: tf.Tensor1D;
  /** [C] biased batch variance (two-pass, as PyTorch). */
  variance: tf.Tensor1D;
}

/** Whether a fused kernel (@vkd/core's fused-kernels) is registered for the active backend. */
export function hasFusedKernel(kernelName: string): boolean {
  return tf.getKernel(kernelName, tf.getBackend()) !== undefined;
}

/**
 * Forward of a batch-statistics BatchNorm (+ shortcut, + ReLU), for use inside a `tf.customGrad` forward (no tape),
 * with every full-size temporary disposed as soon as it is consumed: one fused kernel where the active backend has
 * one registered (`VkdBatchNormTraining`, e.g. by @vkd/backends), else composed from tfjs ops.
 * Updates the moving statistics when `update`.
 * @param x [..., C]; weight, bias [C]. @returns the output (same shape as x) and the batch moments.
 */
export function batchNormTrainingForward(
  x: tf.Tensor,
  weight: tf.Tensor,
  bias: tf.Tensor,
  bn: BatchNormVariables,
  update: boolean,
  tail: NormTail,
): BatchMoments & { value: tf.Tensor } {
  if (hasFusedKernel(BATCH_NORM_TRAINING_KERNEL)) {
    const attrs: BatchNormTrainingAttrs = {
      epsilon: BATCH_NORM_EPSILON,
      relu: tail.relu,
      momentum: BATCH_NORM_MOMENTUM,
    };
    const inputs = {
      x,
      weight,
      bias,
      ...(tail.shortcut ? { shortcut: tail.shortcut } : {}),
      ...(update ? { runningMean: bn.runningMean, runningVar: bn.runningVar } : {}),
    };
    const [value, mean, variance, runningMean, runningVar] = tf
      .engine()
      .runKernel(BATCH_NORM_TRAINING_KERNEL, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
    if (update) {
      bn.runningMean.assign(runningMean as tf.Tensor);
      bn.runningVar.assign(runningVar as tf.Tensor);
    }
    return { value: value as tf.Tensor, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
  }
  const rows = asRows(x);
  const count = rows.shape[0];
  const mean = columnSum(rows, count, 1 / count);
  const squares = tf.squaredDifference(rows, mean);
  const variance = columnSum(squares, count, 1 / count);
  squares.dispose();
  if (update) updateMovingStatistics(bn, mean, variance, count);
  // (x − mean)·(γ·invStd) + β as separate element-wise ops: wasm's FusedBatchNorm kernel is a scalar loop, slower
  // than these three (same arithmetic as the previous, autodiff-era forward).
  const scale = tf.mul(weight, tf.rsqrt(tf.add(variance, BATCH_NORM_EPSILON)));
  const centered = tf.sub(x, mean);
  const scaled = tf.mul(centered, scale);
  centered.dispose();
  let value = replace(scaled, tf.add(scaled, bias));
  if (tail.shortcut) value = replace(value, tf.add(value, tail.shortcut));
  if (tail.relu) value = replace(value, tf.relu(value));
  return { value, mean, variance };
}

function replace(previous: tf.Tensor, next: tf.Tensor): tf.Tensor {
  previous.dispose();
  return next;
}

/**
 * Backward of {@link batchNormTrainingForward} (call inside `tf.tidy`): one fused kernel where the active backend has
 * one registered (`VkdBatchNormTrainingGrad`), else composed from tfjs ops. With x̂ = (x − mean)·invStd (the centred input
 * is recomputed from the saved input) and M = N·H·W rows: dz = dy·[out > 0] (ReLU), dγ = Σ dz·x̂, dβ = Σ dz,
 * dx = γ·invStd·(dz − (Σdz + x̂·Σ(dz·x̂))/M), dshortcut = dz.
 * @param dy gradient of the output; x the saved input; output the saved output (needed only with a ReLU).
 * @returns [dx, dweight, dbias] (+ dshortcut when `hasShortcut`).
 */
export function batchNormTrainingBackward(
  dy: tf.Tensor,
  x: tf.Tensor,
  output: tf.Tensor | undefined,
  moments: BatchMoments,
  weight: tf.Tensor,
  relu: boolean,
  hasShortcut: boolean,
): tf.Tensor[] {
  if (hasFusedKernel(BATCH_NORM_TRAINING_GRAD_KERNEL)) {
    const attrs: BatchNormTrainingGradAttrs = { epsilon: BATCH_NORM_EPSILON, relu, shortcut: hasShortcut };
    const inputs = { dy, x, mean: moments.mean, variance: moments.variance, weight, ...(relu ? { y: output } : {}) };
    return tf
      .engine()
      .runKernel(
        BATCH_NORM_TRAINING_GRAD_KERNEL,
        inputs as tf.NamedTensorMap,
        attrs as unknown as tf.NamedAttrMap,
      ) as tf.Tensor[];
  }
  const dz = relu ? maskedGradient(dy, output as tf.Tensor) : dy;
  const dzRows = asRows(dz);
  const count = dzRows.shape[0];
  const centered = tf.sub(asRows(x), moments.mean);
  const invStd = tf.rsqrt(tf.add(moments.variance, BATCH_NORM_EPSILON));
  const scale = tf.mul(weight, invStd);
  const sumDz = columnSum(dzRows, count);
  const product = tf.mul(dzRows, centered);
  const sumDzCentered = columnSum(product, count);
  product.dispose();
  // dx = scale·(dz − Σdz/M − centered·Σ(dz·centered)·invStd²/M), full-size temporaries freed as soon as consumed.
  const meanTerm = tf.mul(scale, tf.div(sumDz, count));
  const centeredTerm = tf.mul(scale, tf.mul(sumDzCentered, tf.div(tf.square(invStd), count)));
  const scaled = tf.mul(dzRows, scale);
  if (dz !== dy && !hasShortcut) dz.dispose();
  const shifted = replace(scaled, tf.sub(scaled, meanTerm));
  const correction = replace(centered, tf.mul(centered, centeredTerm));
  const dx = tf.sub(shifted, correction);
  tf.dispose([shifted, correction]);
  const sumDzNormalised = tf.mul(sumDzCentered, invStd);
  const gradients = [tf.reshape(dx, x.shape), sumDzNormalised, sumDz];
  // dz may be the incoming dy itself: hand back a copy, so that the tape may dispose the two independently.
  if (hasShortcut) gradients.push(dz === dy ? tf.clone(dy) : dz);
  return gradients;
}

/** dy·[output > 0], the mask freed at once. */
function maskedGradient(dy: tf.Tensor, output: tf.Tensor): tf.Tensor {
  const mask = tf.step(output);
  const masked = tf.mul(dy, mask);
  mask.dispose();
  return masked;
}

type CustomGradFunction = Parameters<typeof tf.customGrad>[0];

/**
 * Batch-statistics BatchNorm (+ shortcut, + ReLU) as one op with a hand-written backward: the tape keeps only the
 * input, the output (with a ReLU) and the [C] moments (freed as soon as its backward ran), instead of every
 * intermediate of the normalisation and their gradients. Safe inside `tf.variableGrads` / `optimizer.minimize` closures and `tf.tidy`.
 * @param x [..., C]. @returns same shape as `x` (caller disposes).
 */
export function batchStatisticsNorm<T extends tf.Tensor>(
  x: T,
  bn: BatchNormVariables,
  update: boolean,
  tail: NormTail,
): T {
  // No gradient tape (e.g. a frozen teacher's forward outside a gradient closure): the forward alone, no op machinery.
  if (!tf.engine().isTapeOn())
    return tf.tidy(() => batchNormTrainingForward(x, bn.weight, bn.bias, bn, update, tail).value) as T;
  const hasShortcut = tail.shortcut !== undefined;
  const normalise = tf.customGrad(((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [input, weight, bias] = args as tf.Tensor[];
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const shortcut = hasShortcut ? (args[3] as tf.Tensor) : undefined;
    const { value, mean, variance } = batchNormTrainingForward(input!, weight!, bias!, bn, update, {
      relu: tail.relu,
      shortcut,
    });
    save(tail.relu ? [input!, weight!, mean, variance, value] : [input!, weight!, mean, variance]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const releaseDy = gradientReleaser();
        const gradients = tf.tidy(() => {
          const [savedInput, savedWeight, savedMean, savedVariance, savedOutput] = saved as [
            tf.Tensor,
            tf.Tensor,
            tf.Tensor1D,
            tf.Tensor1D,
            tf.Tensor?,
          ];
          const moments = { mean: savedMean, variance: savedVariance };
          return batchNormTrainingBackward(dy, savedInput, savedOutput, moments, savedWeight, tail.relu, hasShortcut);
        });
        // Freed as soon as used, unless benchmarking the old behaviour (see backward-release.ts).
        if (!legacyTrainingMemory()) {
          releaseDy(dy);
          saved.forEach(releaseSaved);
        }
        return gradients;
      },
    };
  }) as unknown as CustomGradFunction);
  const inputs: tf.Tensor[] = [x, bn.weight, bn.bias, ...(tail.shortcut ? [tail.shortcut] : [])];
  return normalise(...inputs) as T;
}

/**
 * BatchNorm over the last axis of a tensor of any rank (NHWC maps or [N, C] features), optionally followed by a
 * residual add and a ReLU: `relu?(bn(x) + shortcut?)`.
 * @returns same shape as `x` (caller disposes).
 */
export function batchNorm<T extends tf.Tensor>(
  x: T,
  bn: BatchNormVariables,
  mode: BatchNormMode,
  tail: NormTail = { relu: false },
): T {
  if (mode !== 'moving') return batchStatisticsNorm(x, bn, mode === 'batch-update', tail);
  return tf.tidy(() => {
    let value: tf.Tensor = tf.batchNorm(x, bn.runningMean, bn.runningVar, bn.bias, bn.weight, BATCH_NORM_EPSILON);
    if (tail.shortcut) value = tf.add(value, tail.shortcut);
    return (tail.relu ? tf.relu(value) : value) as T;
  });
}
