import * as tf from '@tensorflow/tfjs-core';
import { VkdError } from '@vkd/core';
import type { ReidModel } from '@vkd/models';

/** Grad-CAM maps of N frames. */
export interface GradCamResult {
  /** [N, H, W] row-major, each map scaled to [0, 1] (input resolution). */
  readonly maps: Float32Array;
  readonly count: number;
  readonly height: number;
  readonly width: number;
  /** [N] the training identity whose logit was explained (the model's top-scoring one, as the authors' save_heatmaps.py). */
  readonly classes: Int32Array;
  /** Largest |head(featureMaps) − model logits| / max|logits|: how exactly the re-built head matches the model (≈1e-6). */
  readonly headError: number;
}

/** The BNNeck head of a ReID model rebuilt from its weights, so gradients can flow from the logits into the feature maps. */
interface BnNeckHead {
  readonly gamma: tf.Tensor1D;
  readonly beta: tf.Tensor1D;
  readonly mean: tf.Tensor1D;
  readonly variance: tf.Tensor1D;
  /** [D, I] */
  readonly classifier: tf.Tensor2D;
}

const BN_EPSILON = 1e-5;

function findWeight(weights: Record<string, tf.Tensor>, suffix: string, rank: number): tf.Tensor {
  const key = Object.keys(weights).find((name) => name.endsWith(suffix) && weights[name]?.rank === rank);
  if (!key)
    throw new VkdError(
      `Grad-CAM: the model has no weight named *${suffix} (rank ${rank}); cannot rebuild its BNNeck head.`,
    );
  return weights[key] as tf.Tensor;
}

function headFromWeights(weights: Record<string, tf.Tensor>): BnNeckHead {
  return {
    gamma: findWeight(weights, 'bottleneck.weight', 1) as tf.Tensor1D,
    beta: findWeight(weights, 'bottleneck.bias', 1) as tf.Tensor1D,
    mean: findWeight(weights, 'bottleneck.running_mean', 1) as tf.Tensor1D,
    variance: findWeight(weights, 'bottleneck.running_var', 1) as tf.Tensor1D,
    classifier: findWeight(weights, 'classifier.classifier.weight', 2) as tf.Tensor2D,
  };
}

/** logits = BN_eval(GAP(F)) · W for single-frame inputs. F: [N, h, w, C] → [N, I]. */
function headLogits(head: BnNeckHead, featureMaps: tf.Tensor4D): tf.Tensor2D {
  const pooled = tf.mean(featureMaps, [1, 2]) as tf.Tensor2D;
  const normalised = tf.batchNorm(pooled, head.mean, head.variance, head.beta, head.gamma, BN_EPSILON);
  return tf.matMul(normalised, head.classifier);
}

/**
 * Grad-CAM (Selvaraju et al., ICCV 2017) on the last-stage feature maps, as the authors' `tools/save_heatmaps.py`
 * (layer4, top logit): weights α_c = spatial mean of ∂logit/∂F[…, c]; map = ReLU(Σ_c α_c F[…, c]), resized
 * bilinearly to the input size and scaled to [0, 1] per frame. The gradient is taken by autodiff through the model's
 * BNNeck head rebuilt from `getWeights()` (eval-mode BN + classifier); `headError` reports how exactly that head
 * reproduces the model's own logits.
 * @param model any `ReidModel` (not modified).
 * @param frames [N, H, W, 3] ImageNet-normalised frames, one per query.
 * @throws VkdError when the model lacks BNNeck weights.
 */
export async function gradCam(model: ReidModel, frames: tf.Tensor4D): Promise<GradCamResult> {
  const [count, height, width] = frames.shape;
  const weights = model.getWeights();
  try {
    const head = headFromWeights(weights);
    const { maps, classes, headError } = tf.tidy(() => {
      const output = model.forward(frames, { training: false, returnFeatureMaps: true });
      if (!output.featureMaps) throw new VkdError('Grad-CAM: model.forward returned no featureMaps.');
      const featureMaps = output.featureMaps;
      const top = tf.argMax(output.logits, 1) as tf.Tensor1D;
      const mask = tf.oneHot(top, output.logits.shape[1]);
      const gradient = tf.grad((maps: tf.Tensor) => tf.sum(tf.mul(headLogits(head, maps as tf.Tensor4D), mask)))(
        featureMaps,
      );
      const alpha = tf.mean(gradient, [1, 2], true);
      const cam = tf.relu(tf.sum(tf.mul(featureMaps, alpha), 3, true)) as tf.Tensor4D;
      const resized = tf.squeeze(tf.image.resizeBilinear(cam, [height, width]), [3]);
      const peak = tf.maximum(tf.max(resized, [1, 2], true), 1e-12);
      const difference = tf.max(tf.abs(tf.sub(headLogits(head, featureMaps), output.logits)));
      const scale = tf.maximum(tf.max(tf.abs(output.logits)), 1e-12);
      return { maps: tf.div(resized, peak), classes: tf.cast(top, 'int32'), headError: tf.div(difference, scale) };
    });
    try {
      const [mapData, classData, errorData] = await Promise.all([maps.data(), classes.data(), headError.data()]);
      return {
        maps: mapData as Float32Array,
        count,
        height,
        width,
        classes: classData as Int32Array,
        headError: errorData[0] ?? Number.NaN,
      };
    } finally {
      tf.dispose([maps, classes, headError]);
    }
  } finally {
    tf.dispose(Object.values(weights));
  }
}
