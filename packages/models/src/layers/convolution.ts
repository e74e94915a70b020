import * as tf from '@tensorflow/tfjs-core';
import { distinctTensors, gradientReleaser, releaseSaved } from './backward-release';
import {
  recordFromSlots,
  recordTensors,
  trainingUnitBackward,
  trainingUnitForward,
  type TrainingUnit,
  type UnitRecord,
} from './conv-batch-norm-training';
import { legacyTrainingMemory } from './training-memory';
import { batchNorm, type BatchNormMode, type BatchNormVariables, type NormTail } from './batch-norm';

/** A PyTorch `Conv2d` with symmetric padding, in NHWC / HWIO. */
export interface ConvGeometry {
  kernel: number;
  stride: number;
  /** PyTorch `padding`: the same number of pixels on every side. */
  padding: number;
  dilation: number;
}

export function tfPadding(padding: number): 'valid' | [[0, 0], [number, number], [number, number], [0, 0]] {
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
 * ReLU) and the [C] moments, each freed as soon as the op's backward ran (as is the gradient it receives), instead of
 * every intermediate of conv, BatchNorm, add and ReLU as separate taped ops alive until the backward pass ends.
 * @param x [N, H, W, Cin]. @returns [N, H', W', Cout] (caller disposes).
 */
function fusedConvBatchNorm(
  x: tf.Tensor4D,
  variables: ConvBatchNormVariables,
  geometry: ConvGeometry,
  update: boolean,
  tail: NormTail,
): tf.Tensor4D {
  const unit: TrainingUnit = {
    filter: variables.filter as tf.Tensor4D,
    bn: variables.bn,
    stride: geometry.stride,
    pad: tfPadding(geometry.padding),
    relu: tail.relu,
    hasShortcut: tail.shortcut !== undefined,
  };
  if (!tf.engine().isTapeOn()) {
    // No gradient tape (e.g. a frozen teacher's forward outside a gradient closure): the forward alone.
    return tf.tidy(() => trainingUnitForward(x, unit, update, tail.shortcut as tf.Tensor4D, false).value);
  }
  if (legacyTrainingMemory()) return legacyFusedConvBatchNorm(x, variables, unit, update, tail);
  const op = tf.customGrad(((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const shortcut = unit.hasShortcut ? (args[4] as tf.Tensor4D) : undefined;
    const { value, record } = trainingUnitForward(args[0] as tf.Tensor4D, unit, update, shortcut, true);
    const { list, slots } = distinctTensors(recordTensors(record));
    save(list);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const releaseDy = gradientReleaser();
        const savedRecord = recordFromSlots(saved, slots);
        const gradients = trainingUnitBackward(dy, savedRecord, unit, true);
        releaseDy(dy);
        saved.forEach(releaseSaved);
        const { input, filter, weight, bias, shortcut: dShortcut } = gradients;
        return [input as tf.Tensor, filter, weight, bias, ...(dShortcut ? [dShortcut] : [])];
      },
    };
  }) as unknown as CustomGradFunction);
  return op(...opInputs(x, variables, tail)) as tf.Tensor4D;
}

function opInputs(x: tf.Tensor4D, variables: ConvBatchNormVariables, tail: NormTail): tf.Tensor[] {
  return [x, variables.filter, variables.bn.weight, variables.bn.bias, ...(tail.shortcut ? [tail.shortcut] : [])];
}

/**
 * The op before progressive freeing ({@link setLegacyTrainingMemory}): saves input, filter, conv output, weight,
 * moments and output, all kept until the whole backward pass ends.
 */
function legacyFusedConvBatchNorm(
  x: tf.Tensor4D,
  variables: ConvBatchNormVariables,
  unit: TrainingUnit,
  update: boolean,
  tail: NormTail,
): tf.Tensor4D {
  const op = tf.customGrad(((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const shortcut = unit.hasShortcut ? (args[4] as tf.Tensor4D) : undefined;
    const { value, record } = trainingUnitForward(args[0] as tf.Tensor4D, unit, update, shortcut, true);
    const kept = [
      record.input,
      unit.filter,
      record.convolved as tf.Tensor,
      unit.bn.weight,
      record.mean,
      record.variance,
    ];
    save(unit.relu ? [...kept, value] : kept);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [input, , convolved, , mean, variance, output] = saved as tf.Tensor4D[];
        const savedRecord: UnitRecord = {
          input: input as tf.Tensor4D,
          convolved: convolved as tf.Tensor4D,
          mean: mean as unknown as tf.Tensor1D,
          variance: variance as unknown as tf.Tensor1D,
          ...(output ? { output } : {}),
        };
        const gradients = trainingUnitBackward(dy, savedRecord, unit, true);
        const { input: dInput, filter, weight, bias, shortcut: dShortcut } = gradients;
        return [dInput as tf.Tensor, filter, weight, bias, ...(dShortcut ? [dShortcut] : [])];
      },
    };
  }) as unknown as CustomGradFunction);
  return op(...opInputs(x, variables, tail)) as tf.Tensor4D;
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
