import * as tf from '@tensorflow/tfjs-core';
import type { Random } from '@vkd/core';

/**
 * How a parameter is stored here and in PyTorch: `conv` = HWIO here, OIHW in PyTorch; `linear` = [in, out] here,
 * [out, in] in PyTorch; `vector` = the same 1-D layout in both.
 */
export type ParameterLayout = 'conv' | 'linear' | 'vector';

/** Initial values, mirroring the PyTorch initialisers the VKD network uses. */
export type ParameterInit =
  | { kind: 'constant'; value: number }
  /** `kaiming_normal_(mode='fan_out', nonlinearity='relu')`: N(0, 2 / (out·kh·kw)). */
  | { kind: 'kaiming-normal-fan-out' }
  /** `kaiming_normal_(mode='fan_in')` (torchvision DenseNet): N(0, 2 / (in·kh·kw)), `in` per group. */
  | { kind: 'kaiming-normal-fan-in' }
  | { kind: 'normal'; std: number }
  /** U(−bound, bound), e.g. PyTorch's default Linear init with bound 1/√fan_in. */
  | { kind: 'uniform'; bound: number };

/** One named parameter or buffer; `name` is the key of the VKD PyTorch state_dict. */
export interface ParameterSpec {
  name: string;
  /** Shape in this package's layout (HWIO for convs, [in, out] for linears). */
  shape: number[];
  layout: ParameterLayout;
  /** False for BN moving statistics and the frozen BNNeck bias. */
  trainable: boolean;
  init: ParameterInit;
}

/**
 * Specs of a bias-free (unless `bias`) conv `[k, k, in, out]` named `<prefix>.weight` / `<prefix>.bias`; `in` is the
 * channels per group (1 for a depthwise conv, as PyTorch's `[out, in / groups, k, k]`). Default init kaiming-normal
 * fan-out (torchvision ResNet, MobileNet-V2).
 */
export function convSpecs(
  prefix: string,
  kernel: number,
  inChannels: number,
  outChannels: number,
  bias = false,
  init: ParameterInit = { kind: 'kaiming-normal-fan-out' },
): ParameterSpec[] {
  const specs: ParameterSpec[] = [
    {
      name: `${prefix}.weight`,
      shape: [kernel, kernel, inChannels, outChannels],
      layout: 'conv',
      trainable: true,
      init,
    },
  ];
  if (bias)
    specs.push({
      name: `${prefix}.bias`,
      shape: [outChannels],
      layout: 'vector',
      trainable: true,
      init: { kind: 'constant', value: 0 },
    });
  return specs;
}

/** Specs of a BatchNorm with `weight`, `bias` (trainable unless `frozenBias`) and the moving statistics. */
export function batchNormSpecs(
  prefix: string,
  channels: number,
  options: { weightInit?: number; frozenBias?: boolean } = {},
): ParameterSpec[] {
  const vector = (suffix: string, trainable: boolean, value: number): ParameterSpec => ({
    name: `${prefix}.${suffix}`,
    shape: [channels],
    layout: 'vector',
    trainable,
    init: { kind: 'constant', value },
  });
  return [
    vector('weight', true, options.weightInit ?? 1),
    vector('bias', !options.frozenBias, 0),
    vector('running_mean', false, 0),
    vector('running_var', false, 1),
  ];
}

/** Specs of a linear layer `[in, out]`; default init is PyTorch's Linear default U(±1/√in), bias 0 as in BAM. */
export function linearSpecs(
  prefix: string,
  inFeatures: number,
  outFeatures: number,
  options: { bias?: boolean; init?: ParameterInit } = {},
): ParameterSpec[] {
  const specs: ParameterSpec[] = [
    {
      name: `${prefix}.weight`,
      shape: [inFeatures, outFeatures],
      layout: 'linear',
      trainable: true,
      init: options.init ?? { kind: 'uniform', bound: 1 / Math.sqrt(inFeatures) },
    },
  ];
  if (options.bias ?? true)
    specs.push({
      name: `${prefix}.bias`,
      shape: [outFeatures],
      layout: 'vector',
      trainable: true,
      init: { kind: 'constant', value: 0 },
    });
  return specs;
}

/** Number of elements of a shape. */
export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((product, dim) => product * dim, 1);
}

/** Draws the initial values of one parameter from `random` (deterministic for a given seed). */
export function initialValues(spec: ParameterSpec, random: Random): Float32Array {
  const values = new Float32Array(sizeOf(spec.shape));
  const { init } = spec;
  if (init.kind === 'constant') return values.fill(init.value);
  if (init.kind === 'uniform') {
    for (let i = 0; i < values.length; i++) values[i] = (2 * random.next() - 1) * init.bound;
    return values;
  }
  let std: number;
  if (init.kind === 'normal') std = init.std;
  else {
    const [kh, kw, inChannels, out] = spec.shape as [number, number, number, number];
    std = Math.sqrt(2 / ((init.kind === 'kaiming-normal-fan-in' ? inChannels : out) * kh * kw));
  }
  for (let i = 0; i < values.length; i++) values[i] = random.normal() * std;
  return values;
}

/** Creates a variable named `<prefix><spec.name>` holding `values` (float32, in this package's layout). */
export function createParameterVariable(
  spec: ParameterSpec,
  values: Float32Array | tf.Tensor,
  prefix: string,
): tf.Variable {
  const initial = values instanceof tf.Tensor ? values : tf.tensor(values, spec.shape, 'float32');
  const variable = tf.variable(initial, spec.trainable, `${prefix}${spec.name}`, 'float32');
  if (!(values instanceof tf.Tensor)) initial.dispose();
  return variable;
}
