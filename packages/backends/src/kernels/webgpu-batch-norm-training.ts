import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { batchNormTrainingArguments } from './fused-kernel-arguments';
import { ElementwiseProgram, runColumnSums, runProgram } from './webgpu-fused-programs';

/**
 * `VkdBatchNormTraining` (see @vkd/core's fused-kernels) on webgpu: three WGSL programs — the per-channel mean, the
 * per-channel (biased, two-pass) variance, then normalise + bias (+ shortcut) (+ ReLU) — instead of ~10 kernels.
 */
export function createWebGpuBatchNormTrainingKernel(): KernelFunc {
  return (args) => {
    const { backend } = args;
    const { x, weight, bias, shortcut, moving, epsilon, relu, rows, channels } = batchNormTrainingArguments(args);
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
    if (!moving) return [value, mean, variance];
    // PyTorch's moving-statistics update, in the composed ops' order: keep·r + take·(batch·factor).
    const blend = (key: string, running: TensorInfo, batch: TensorInfo, factor: number) =>
      runProgram(
        backend,
        new ElementwiseProgram(
          `vkdBatchNormMoving_${key}`,
          ['running', 'batch'],
          [channels],
          ['keep', 'take', 'factor'],
          'value = running[c] * uniforms.keep + (batch[c] * uniforms.factor) * uniforms.take;',
        ),
        [running, batch],
        channels,
        [moving.keep, moving.take, factor],
      );
    return [
      value,
      mean,
      variance,
      blend('mean', moving.runningMean, mean, 1),
      blend('variance', moving.runningVar, variance, moving.unbiased),
    ];
  };
}
