import * as tf from '@tensorflow/tfjs-core';
import {
  batchNorm,
  batchNormTrainingBackward,
  batchNormTrainingForward,
  type BatchNormMode,
  type BatchNormVariables,
  type NormTail,
} from './batch-norm';

/** A PyTorch `Conv2d` with symmetric padding, in NHWC / HWIO. */
export interface ConvGeometry {
  kernel: number;
  stride: number;
  /** PyTorch `padding`: the same number of pixels on every side. */
  padding: number;
  dilation: number;
}

function tfPadding(padding: number): 'valid' | [[0, 0], [number, number], [number, number], [0, 0]] {
  return padding === 0
    ? 'valid'
    : [
        [0, 0],
        [padding, padding],
        [padding, padding],
        [0, 0],
      ];
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
  const blocks = tf.spaceToBatchND(
    x,
    [dilation, dilation],
    [
      [padding, padding + extraHeight],
      [padding, padding + extraWidth],
    ],
  );
  const convolved = tf.fused.conv2d({ x: blocks as tf.Tensor4D, filter, strides: 1, pad: 'valid', bias, activation });
  return tf.batchToSpaceND(
    convolved,
    [dilation, dilation],
    [
      [0, extraHeight],
      [0, extraWidth],
    ],
  ) as tf.Tensor4D;
}

/** Variables of a conv followed by a BatchNorm. */
export interface ConvBatchNormVariables {
  filter: tf.Variable;
  bias?: tf.Variable;
  bn: BatchNormVariables;
}

/** What follows the conv + BatchNorm, and whether the conv input is data that needs no gradient (the frames). */
export interface ConvBatchNormTail extends NormTail {
  /**
   * The input is data (the frames): in batch-statistics modes the conv runs as a plain `tf.conv2d`, whose gradient
   * computes dx only when something asks for it, instead of inside the fused conv+BatchNorm op (which always does).
   */
  inputIsData?: boolean;
}

type CustomGradFunction = Parameters<typeof tf.customGrad>[0];

/**
 * Batch-statistics conv (no bias, no dilation) → BatchNorm (→ + shortcut) (→ ReLU) as ONE op with a hand-written
 * backward. The tape keeps x (the previous op's output, alive anyway), the conv output, the op's output (with a
 * ReLU) and the [C] moments, and the backward holds one gradient (dx) per op instead of one per intermediate: about a
 * quarter of the memory of conv, BatchNorm, add and ReLU as separate taped ops.
 * @param x [N, H, W, Cin]. @returns [N, H', W', Cout] (caller disposes).
 */
function fusedConvBatchNorm(
  x: tf.Tensor4D,
  variables: ConvBatchNormVariables,
  geometry: ConvGeometry,
  update: boolean,
  tail: NormTail,
): tf.Tensor4D {
  const { stride } = geometry;
  const pad = tfPadding(geometry.padding);
  const convolve = (input: tf.Tensor, filter: tf.Tensor) =>
    tf.fused.conv2d({ x: input as tf.Tensor4D, filter: filter as tf.Tensor4D, strides: stride, pad });
  if (!tf.engine().isTapeOn()) {
    // No gradient tape (e.g. a frozen teacher's forward outside a gradient closure): the forward alone.
    return tf.tidy(
      () =>
        batchNormTrainingForward(
          convolve(x, variables.filter),
          variables.bn.weight,
          variables.bn.bias,
          variables.bn,
          update,
          tail,
        ).value,
    ) as tf.Tensor4D;
  }
  const hasShortcut = tail.shortcut !== undefined;
  const unit = tf.customGrad(((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [input, filter, weight, bias] = args as tf.Tensor[];
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const shortcut = hasShortcut ? (args[4] as tf.Tensor) : undefined;
    const convolved = convolve(input!, filter!);
    const { value, mean, variance } = batchNormTrainingForward(convolved, weight!, bias!, variables.bn, update, {
      relu: tail.relu,
      shortcut,
    });
    const kept = [input!, filter!, convolved, weight!, mean, variance];
    save(tail.relu ? [...kept, value] : kept);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const [savedInput, savedFilter, savedConvolved, savedWeight, savedMean, savedVariance, savedOutput] =
            saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D, tf.Tensor, tf.Tensor1D, tf.Tensor1D, tf.Tensor?];
          const moments = { mean: savedMean, variance: savedVariance };
          const [dConvolved, dWeight, dBias, dShortcut] = batchNormTrainingBackward(
            dy,
            savedConvolved,
            savedOutput,
            moments,
            savedWeight,
            tail.relu,
            hasShortcut,
          ) as [tf.Tensor4D, tf.Tensor, tf.Tensor, tf.Tensor?];
          const dFilter = tf.engine().runKernel(tf.Conv2DBackpropFilter, { x: savedInput, dy: dConvolved }, {
            strides: stride,
            pad,
            dataFormat: 'NHWC',
            filterShape: savedFilter.shape,
          } as unknown as tf.NamedAttrMap) as tf.Tensor;
          const dInput = tf.conv2dTranspose(dConvolved, savedFilter, savedInput.shape, stride, pad);
          return [dInput, dFilter, dWeight, dBias, ...(dShortcut ? [dShortcut] : [])];
        }),
    };
  }) as unknown as CustomGradFunction);
  const inputs: tf.Tensor[] = [
    x,
    variables.filter,
    variables.bn.weight,
    variables.bn.bias,
    ...(tail.shortcut ? [tail.shortcut] : []),
  ];
  return unit(...inputs) as tf.Tensor4D;
}

/**
 * conv → BatchNorm (→ + shortcut) (→ ReLU). In `moving` mode these are separate ops, with the BatchNorm deliberately
 * not folded into the filter: a folded filter is a new tensor on every call, which defeats XNNPACK's per-filter
 * operator cache on wasm (measured: folding costs 1.3-2× the CPU time of conv + FusedBatchNorm for resnet18/50). In
 * batch-statistics modes (training) a plain conv is fused with its BatchNorm and tail into one op with a
 * hand-written backward, which keeps far fewer full-size tensors alive until the backward pass ends.
 * @param x [N, H, W, Cin]. @returns [N, H', W', Cout] (caller disposes).
 */
export function convBatchNorm(
  x: tf.Tensor4D,
  variables: ConvBatchNormVariables,
  geometry: ConvGeometry,
  mode: BatchNormMode,
  tail: ConvBatchNormTail,
): tf.Tensor4D {
  const normTail: NormTail = { relu: tail.relu, ...(tail.shortcut ? { shortcut: tail.shortcut } : {}) };
  const training = mode !== 'moving';
  if (training && geometry.dilation === 1 && !variables.bias && !tail.inputIsData) {
    return fusedConvBatchNorm(x, variables, geometry, mode === 'batch-update', normTail);
  }
  return tf.tidy(() => {
    const convolved =
      training && tail.inputIsData && geometry.dilation === 1 && !variables.bias
        ? tf.conv2d(x, variables.filter as tf.Tensor4D, geometry.stride, tfPadding(geometry.padding))
        : convolve(x, variables.filter as tf.Tensor4D, geometry, variables.bias as tf.Tensor1D | undefined, 'linear');
    return batchNorm(convolved, variables.bn, mode, normTail);
  });
}
