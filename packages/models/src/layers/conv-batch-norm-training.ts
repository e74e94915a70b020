import * as tf from '@tensorflow/tfjs-core';
import {
  batchNormTrainingBackward,
  batchNormTrainingForward,
  type BatchMoments,
  type BatchNormVariables,
} from './batch-norm';

/** One batch-statistics conv (no bias, no dilation) → BatchNorm (→ + shortcut) (→ ReLU) unit of a training pass. */
export interface TrainingUnit {
  filter: tf.Tensor4D;
  bn: BatchNormVariables;
  stride: number;
  pad: 'valid' | [[0, 0], [number, number], [number, number], [0, 0]];
  relu: boolean;
  hasShortcut: boolean;
}

/** What the backward pass of one unit needs: nothing else of the forward pass is kept. */
export interface UnitRecord extends BatchMoments {
  /** The conv input (the filter gradient needs it; so does recomputing the conv output). */
  input: tf.Tensor4D;
  /** The conv output (BatchNorm's input); absent when the backward pass recomputes it from input and filter. */
  convolved?: tf.Tensor4D;
  /** The unit's output, only with a ReLU (its mask). */
  output?: tf.Tensor4D;
}

/** Gradients of one unit with respect to its inputs. */
export interface UnitGradients {
  /** Absent when not asked for (the input is data). */
  input?: tf.Tensor4D;
  filter: tf.Tensor4D;
  weight: tf.Tensor1D;
  bias: tf.Tensor1D;
  /** With a shortcut: the gradient of the shortcut (the ReLU-masked dy). */
  shortcut?: tf.Tensor4D;
}

function convolve(unit: TrainingUnit, input: tf.Tensor4D): tf.Tensor4D {
  return tf.fused.conv2d({ x: input, filter: unit.filter, strides: unit.stride, pad: unit.pad });
}

/**
 * Forward of one unit without a tape (inside a custom op's forward or backward function).
 * @param keepConvolved record the conv output (else the backward pass recomputes it: one more conv, less memory).
 * @returns the output and the record; the caller owns both (the record's `input` is `x` itself).
 */
export function trainingUnitForward(
  x: tf.Tensor4D,
  unit: TrainingUnit,
  update: boolean,
  shortcut: tf.Tensor4D | undefined,
  keepConvolved: boolean,
): { value: tf.Tensor4D; record: UnitRecord } {
  const convolved = convolve(unit, x);
  const { value, mean, variance } = batchNormTrainingForward(convolved, unit.bn.weight, unit.bn.bias, unit.bn, update, {
    relu: unit.relu,
    ...(shortcut ? { shortcut } : {}),
  });
  if (!keepConvolved) convolved.dispose();
  const record: UnitRecord = {
    input: x,
    mean,
    variance,
    ...(keepConvolved ? { convolved } : {}),
    ...(unit.relu ? { output: value as tf.Tensor4D } : {}),
  };
  return { value: value as tf.Tensor4D, record };
}

/**
 * Backward of one unit (its own temporaries freed on return; the record and dy are the caller's to release).
 * dz = dy·[out > 0]; BatchNorm backward → dconv, dγ, dβ (dshortcut = dz); dW = Conv2DBackpropFilter(x, dconv);
 * dx = conv2dTranspose(dconv, W).
 */
export function trainingUnitBackward(
  dy: tf.Tensor,
  record: UnitRecord,
  unit: TrainingUnit,
  inputGradient: boolean,
): UnitGradients {
  return tf.tidy(() => {
    const convolved = record.convolved ?? convolve(unit, record.input);
    const [dConvolved, weight, bias, shortcut] = batchNormTrainingBackward(
      dy,
      convolved,
      record.output,
      record,
      unit.bn.weight,
      unit.relu,
      unit.hasShortcut,
    ) as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.Tensor4D?];
    const filter = tf.engine().runKernel(tf.Conv2DBackpropFilter, { x: record.input, dy: dConvolved }, {
      strides: unit.stride,
      pad: unit.pad,
      dataFormat: 'NHWC',
      filterShape: unit.filter.shape,
    } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
    const input = inputGradient
      ? tf.conv2dTranspose(dConvolved, unit.filter, record.input.shape, unit.stride, unit.pad)
      : undefined;
    return { filter, weight, bias, ...(input ? { input } : {}), ...(shortcut ? { shortcut } : {}) };
  });
}

/** The tensors of a record, in a fixed order (for `save()`), and back. */
export function recordTensors(record: UnitRecord): Array<tf.Tensor | undefined> {
  return [record.input, record.convolved, record.mean, record.variance, record.output];
}

/** Rebuilds a record from {@link recordTensors}' order, each slot an index into `saved` (−1: absent). */
export function recordFromSlots(saved: readonly tf.Tensor[], slots: readonly number[]): UnitRecord {
  const at = (index: number) => {
    const slot = slots[index] as number;
    return slot < 0 ? undefined : saved[slot];
  };
  const convolved = at(1) as tf.Tensor4D | undefined;
  const output = at(4) as tf.Tensor4D | undefined;
  return {
    input: at(0) as tf.Tensor4D,
    mean: at(2) as tf.Tensor1D,
    variance: at(3) as tf.Tensor1D,
    ...(convolved ? { convolved } : {}),
    ...(output ? { output } : {}),
  };
}
