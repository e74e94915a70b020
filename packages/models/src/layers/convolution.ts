import * as tf from '@tensorflow/tfjs-core';
import { batchNorm, type BatchNormMode, type BatchNormVariables } from './batch-norm';

/** A PyTorch `Conv2d` with symmetric padding, in NHWC / HWIO. */
export interface ConvGeometry {
  kernel: number;
  stride: number;
  /** PyTorch `padding`: the same number of pixels on every side. */
  padding: number;
  dilation: number;
}

function tfPadding(padding: number): 'valid' | [[0, 0], [number, number], [number, number], [0, 0]] {
  return padding === 0 ? 'valid' : [[0, 0], [padding, padding], [padding, padding], [0, 0]];
}

/**
 * Conv2d (+ bias + activation, one fused kernel) with PyTorch padding semantics. Dilated convolutions run as
 * space-to-batch → dense conv → batch-to-space (as TensorFlow's atrous conv), because tfjs has no gradient for
 * dilated conv2d.
 * @param x [N, H, W, Cin]; filter [k, k, Cin, Cout]; bias [Cout] or undefined.
 * @returns [N, H', W', Cout] with H' = ⌊(H + 2p − d(k−1) − 1)/s⌋ + 1 (caller disposes).
 */
export function convolve(
  x: tf.Tensor4D,
  filter: tf.Tensor4D,
  geometry: ConvGeometry,
  bias: tf.Tensor1D | undefined,
  activation: 'relu' | 'linear',
): tf.Tensor4D {
  const { stride, padding, dilation } = geometry;
  if (dilation === 1) {
    return tf.fused.conv2d({ x, filter, strides: stride, pad: tfPadding(padding), bias, activation });
  }
  // Atrous convolution (stride 1): pad so that both padded sides are multiples of the dilation.
  const [, height, width] = x.shape;
  const extraHeight = (dilation - ((height + 2 * padding) % dilation)) % dilation;
  const extraWidth = (dilation - ((width + 2 * padding) % dilation)) % dilation;
  const blocks = tf.spaceToBatchND(x, [dilation, dilation], [[padding, padding + extraHeight], [padding, padding + extraWidth]]);
  const convolved = tf.fused.conv2d({ x: blocks as tf.Tensor4D, filter, strides: 1, pad: 'valid', bias, activation });
  return tf.batchToSpaceND(convolved, [dilation, dilation], [[0, extraHeight], [0, extraWidth]]) as tf.Tensor4D;
}

/** Variables of a conv followed by a BatchNorm. */
export interface ConvBatchNormVariables {
  filter: tf.Variable;
  bias?: tf.Variable;
  bn: BatchNormVariables;
}

/**
 * conv → BatchNorm → optional ReLU, as three ops. The BatchNorm is deliberately not folded into the filter: a folded
 * filter is a new tensor on every call, which defeats XNNPACK's per-filter operator cache on wasm (measured: folding
 * costs 1.3-2× the CPU time of conv + FusedBatchNorm for resnet18/50).
 * @param x [N, H, W, Cin]. @returns [N, H', W', Cout] (caller disposes).
 */
export function convBatchNorm(
  x: tf.Tensor4D,
  variables: ConvBatchNormVariables,
  geometry: ConvGeometry,
  mode: BatchNormMode,
  relu: boolean,
): tf.Tensor4D {
  const convolved = convolve(x, variables.filter as tf.Tensor4D, geometry, variables.bias as tf.Tensor1D | undefined, 'linear');
  const normalised = batchNorm(convolved, variables.bn, mode);
  return relu ? tf.relu(normalised) : normalised;
}
