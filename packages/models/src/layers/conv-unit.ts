import type * as tf from '@tensorflow/tfjs-core';
import { convBatchNorm, type ConvBatchNormTail, type ConvGeometry } from './convolution';
import type { BatchNormMode, BatchNormVariables } from './batch-norm';
import { batchNormSpecs, convSpecs, type ParameterSpec } from '../parameters';

/** Variables by VKD state_dict key, and the BatchNorm mode of the current forward pass. */
export interface ForwardContext {
  variable(name: string): tf.Variable;
  mode: BatchNormMode;
  /**
   * Training with a tape: recompute activations in the backward pass instead of keeping them (ResNet: per stage,
   * saving only each stage's input; about one more forward pass of time). Other backbones ignore it.
   */
  recompute?: boolean;
}

/** A conv + BatchNorm pair: `<conv>.weight` (+ `<conv>.bias`) and `<bn>.{weight,bias,running_mean,running_var}`. */
export interface ConvUnit {
  conv: string;
  bn: string;
  geometry: ConvGeometry;
  inChannels: number;
  outChannels: number;
  convBias: boolean;
}

/** A conv (no bias, PyTorch padding (k−1)/2) + BatchNorm unit. */
export function convUnit(
  conv: string,
  bn: string,
  kernel: number,
  stride: number,
  inChannels: number,
  outChannels: number,
): ConvUnit {
  return {
    conv,
    bn,
    geometry: { kernel, stride, padding: (kernel - 1) / 2, dilation: 1 },
    inChannels,
    outChannels,
    convBias: false,
  };
}

/** Specs of a unit; `bnWeightInit` 0 gives torchvision's `zero_init_residual`. */
export function unitSpecs(convUnit: ConvUnit, bnWeightInit = 1): ParameterSpec[] {
  return [
    ...convSpecs(convUnit.conv, convUnit.geometry.kernel, convUnit.inChannels, convUnit.outChannels, convUnit.convBias),
    ...batchNormSpecs(convUnit.bn, convUnit.outChannels, { weightInit: bnWeightInit }),
  ];
}

/** The BatchNorm variables named `<prefix>.{weight,bias,running_mean,running_var}`. */
export function batchNormVariables(context: ForwardContext, prefix: string): BatchNormVariables {
  return {
    weight: context.variable(`${prefix}.weight`),
    bias: context.variable(`${prefix}.bias`),
    runningMean: context.variable(`${prefix}.running_mean`),
    runningVar: context.variable(`${prefix}.running_var`),
  };
}

/**
 * Runs one conv + BN (+ shortcut) (+ ReLU) unit: `relu?(bn(conv(x)) + shortcut?)`.
 * @param x [N, H, W, Cin]; `tail.shortcut` [N, H', W', Cout]. @returns [N, H', W', Cout].
 */
export function unitForward(
  x: tf.Tensor4D,
  convUnit: ConvUnit,
  context: ForwardContext,
  tail: ConvBatchNormTail,
): tf.Tensor4D {
  const variables = {
    filter: context.variable(`${convUnit.conv}.weight`),
    ...(convUnit.convBias ? { bias: context.variable(`${convUnit.conv}.bias`) } : {}),
    bn: batchNormVariables(context, convUnit.bn),
  };
  return convBatchNorm(x, variables, convUnit.geometry, context.mode, tail);
}
