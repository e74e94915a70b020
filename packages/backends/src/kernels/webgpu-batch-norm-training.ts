import { util } from '@tensorflow/tfjs-core';
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { BatchNormTrainingAttrs } from '@vkd/core';
import { ElementwiseProgram, runColumnSums, runProgram } from './webgpu-fused-programs';

/**
 * `VkdBatchNormTraining` (see @vkd/core's fused-kernels) on webgpu: three WGSL programs — the per-channel mean, the
 * per-channel (biased, two-pass) variance, then normalise + bias (+ shortcut) (+ ReLU) — instead of ~10 kernels.
 */
export function createWebGpuBatchNormTrainingKernel(): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { x, weight, bias, shortcut } = inputs as Record<string, TensorInfo | undefined> as {
      x: TensorInfo;
      weight: TensorInfo;
      bias: TensorInfo;
      shortcut?: TensorInfo;
    };
    const { epsilon, relu } = attrs as unknown as BatchNormTrainingAttrs;
    const channels = x.shape[x.shape.length - 1] as number;
    const rows = util.sizeFromShape(x.shape) / channels;
    const mean = runColumnSums(backend, 'mean', [x], rows, channels, 1 / rows);
    const variance = runColumnSums(backend, 'variance', [x, mean], rows, channels, 1 / rows);
    const program = new ElementwiseProgram(
      `vkdBatchNormNormalize_${relu}_${shortcut !== undefined}`,
      ['x', 'mean', 'variance', 'weight', 'bias', ...(shortcut ? ['shortcut'] : [])],
      x.shape,
      ['epsilon'],
      `let scale = weight[c] * (1.0 / sqrt(variance[c] + uniforms.epsilon));
       value = (x[index] - mean[c]) * scale + bias[c];
       ${shortcut ? 'value = value + shortcut[index];' : ''}
       ${relu ? 'value = max(value, 0.0);' : ''}`,
    );
    const inputsOfProgram = [x, mean, variance, weight, bias, ...(shortcut ? [shortcut] : [])];
    const value = runProgram(backend, program, inputsOfProgram, channels, [epsilon]);
    return [value, mean, variance];
  };
}
