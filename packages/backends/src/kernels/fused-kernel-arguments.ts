import { util } from '@tensorflow/tfjs-core';
import type { KernelConfig, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { AdamUpdateAttrs, BatchNormTrainingAttrs, BatchNormTrainingGradAttrs } from '@vkd/core';

type KernelArguments = Parameters<KernelConfig['kernelFunc']>[0];

/** The `[M, C]` view of a tensor normalised over its last axis C. */
export interface RowsAndChannels {
  rows: number;
  channels: number;
}

function rowsAndChannels(x: TensorInfo): RowsAndChannels {
  const channels = x.shape[x.shape.length - 1] as number;
  return { rows: util.sizeFromShape(x.shape) / channels, channels };
}

/** The inputs and attributes of `VkdBatchNormTraining` (@vkd/core's fused-kernels), as its implementations read them. */
export function batchNormTrainingArguments({ inputs, attrs }: KernelArguments) {
  const { x, weight, bias, shortcut, runningMean, runningVar } = inputs as NamedTensorInfoMap as Record<
    'x' | 'weight' | 'bias',
    TensorInfo
  > &
    Partial<Record<'shortcut' | 'runningMean' | 'runningVar', TensorInfo>>;
  const a = attrs as unknown as BatchNormTrainingAttrs;
  const shape = rowsAndChannels(x);
  const moving =
    runningMean !== undefined && runningVar !== undefined
      ? { runningMean, runningVar, ...movingStatisticsFactors(a.momentum, shape.rows) }
      : undefined;
  return { x, weight, bias, shortcut, moving, epsilon: a.epsilon, relu: a.relu, ...shape };
}

/**
 * Float32 factors of PyTorch's moving-statistics update `r ← keep·r + take·batch` (batch variance × unbiased), as the
 * composed ops round them.
 */
function movingStatisticsFactors(momentum: number, rows: number) {
  return {
    keep: Math.fround(1 - momentum),
    take: Math.fround(momentum),
    unbiased: rows > 1 ? Math.fround(rows / (rows - 1)) : 1,
  };
}

/** The inputs and attributes of `VkdBatchNormTrainingGrad`. @throws Error when `relu` comes without the output y. */
export function batchNormTrainingGradArguments(kernelName: string, { inputs, attrs }: KernelArguments) {
  const { dy, x, mean, variance, weight, y } = inputs as NamedTensorInfoMap as Record<
    'dy' | 'x' | 'mean' | 'variance' | 'weight',
    TensorInfo
  > & { y?: TensorInfo };
  const a = attrs as unknown as BatchNormTrainingGradAttrs;
  if (a.relu && y === undefined) throw new Error(`@vkd/backends: ${kernelName} with relu needs the forward output y`);
  return { dy, x, mean, variance, weight, y, ...a, ...rowsAndChannels(x) };
}

/** The inputs of `VkdAdamUpdate`, and its scalars in the order the kernels take them (see tools/wasm/norm-wat.mjs). */
export function adamUpdateArguments({ inputs, attrs }: KernelArguments) {
  const { weights, gradient, m, v } = inputs as NamedTensorInfoMap as Record<
    'weights' | 'gradient' | 'm' | 'v',
    TensorInfo
  >;
  const a = attrs as unknown as AdamUpdateAttrs;
  const scalars = [
    a.weightDecay,
    a.beta1,
    1 - a.beta1,
    a.beta2,
    1 - a.beta2,
    a.rootCorrection2,
    a.epsilon,
    -a.stepSize,
  ];
  return { weights, gradient, m, v, weightDecay: a.weightDecay, scalars };
}
