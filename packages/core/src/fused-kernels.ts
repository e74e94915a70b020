/**
 * Names and attribute contracts of the fused training kernels. @vkd/backends registers them for the backends it has
 * fast implementations for; @vkd/models and @vkd/trainer call them through `tf.engine().runKernel` only when one is
 * registered for the active backend (`tf.getKernel(name, tf.getBackend())`), and otherwise compose the same arithmetic
 * from tfjs ops. All tensors are float32; per-channel tensors are [C], C the last axis of `x`.
 */

/**
 * BatchNorm with batch statistics, then an optional residual add and ReLU, in one kernel:
 * `y = relu?((x − mean)·(weight/√(variance + epsilon)) + bias + shortcut?)`, with mean and variance (biased, two-pass)
 * over every axis but the last.
 * Inputs `{ x, weight, bias, shortcut?, runningMean?, runningVar? }` (shortcut: same shape as x; the moving
 * statistics both or neither); attrs {@link BatchNormTrainingAttrs}; outputs `[y, mean, variance]`, then with the moving
 * statistics their updated values `[runningMean', runningVar']` (PyTorch's rule: `r ← (1 − momentum)·r +
 * momentum·batch`, with the unbiased batch variance `variance·M/(M − 1)` when M > 1).
 */
export const BATCH_NORM_TRAINING_KERNEL = 'VkdBatchNormTraining';

export interface BatchNormTrainingAttrs {
  epsilon: number;
  /** Apply a ReLU last. */
  relu: boolean;
  /** Weight of the batch in the moving statistics (used when they are inputs). */
  momentum: number;
}

/**
 * The gradient of {@link BATCH_NORM_TRAINING_KERNEL}. With x̂ = (x − mean)/√(variance + ε), M rows and
 * dz = dy·[y > 0] (with a ReLU) or dy: dweight = Σ dz·x̂, dbias = Σ dz, dx = weight/√(variance + ε)·(dz − (Σdz +
 * x̂·Σ(dz·x̂))/M), dshortcut = dz.
 * Inputs `{ dy, x, mean, variance, weight, y? }` (y, the forward output, only with `relu`); attrs
 * {@link BatchNormTrainingGradAttrs}; outputs `[dx, dweight, dbias]`, then `dshortcut` when `shortcut`.
 */
export const BATCH_NORM_TRAINING_GRAD_KERNEL = 'VkdBatchNormTrainingGrad';

export interface BatchNormTrainingGradAttrs extends Omit<BatchNormTrainingAttrs, 'momentum'> {
  /** The forward pass had a shortcut: also output its gradient. */
  shortcut: boolean;
}

/**
 * One Adam step with L2 weight decay in the gradient (PyTorch's `Adam(weight_decay=…)`), in PyTorch's operation
 * order: `g ← g + weightDecay·w; m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²;
 * w ← w − stepSize·m/(√v/rootCorrection2 + ε)`.
 * Inputs `{ weights, gradient, m, v }` (same shape); attrs {@link AdamUpdateAttrs}; outputs `[weights, m, v]`.
 */
export const ADAM_UPDATE_KERNEL = 'VkdAdamUpdate';

export interface AdamUpdateAttrs {
  /** lr/(1 − β1ᵗ). */
  stepSize: number;
  /** √(1 − β2ᵗ). */
  rootCorrection2: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  weightDecay: number;
}

/** Every fused kernel name, for registration and for switching them off in benchmarks. */
export const FUSED_KERNEL_NAMES = [
  BATCH_NORM_TRAINING_KERNEL,
  BATCH_NORM_TRAINING_GRAD_KERNEL,
  ADAM_UPDATE_KERNEL,
] as const;
