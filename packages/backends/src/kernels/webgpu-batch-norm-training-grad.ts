import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { batchNormTrainingGradArguments } from './fused-kernel-arguments';
import { ElementwiseProgram, runColumnSums, runProgram } from './webgpu-fused-programs';

/** WGSL of dz = dy·[y > 0] (with a ReLU) or dy, as `dz`. */
const dz = (relu: boolean) => `var dz = dy[index];${relu ? ' if (!(y[index] > 0.0)) { dz = 0.0; }' : ''}`;
const INV_STD = 'let invStd = 1.0 / sqrt(variance[c] + uniforms.epsilon);';

/**
 * `VkdBatchNormTrainingGrad` (see @vkd/core's fused-kernels) on webgpu: one WGSL reduction for Σdz and Σdz·(x − mean)
 * per channel, then dx (and dz for the shortcut) element-wise and dγ, dβ per channel — instead of ~20 kernels.
 */
export function createWebGpuBatchNormTrainingGradKernel(kernelName: string): KernelFunc {
  return (args) => {
    const { backend } = args;
    const { dy, x, mean, variance, weight, y, epsilon, relu, shortcut, rows, channels } =
      batchNormTrainingGradArguments(kernelName, args);
    const masked = relu ? [y as TensorInfo] : [];
    const sums = runColumnSums(backend, relu ? 'gradRelu' : 'grad', [dy, x, mean, ...masked], rows, channels, 1);
    try {
      const dx = runProgram(
        backend,
        new ElementwiseProgram(
          `vkdBatchNormGradInput_${relu}`,
          ['dy', 'x', 'mean', 'variance', 'weight', 'sums', ...(relu ? ['y'] : [])],
          x.shape,
          ['epsilon', 'rows'],
          `${dz(relu)}
           ${INV_STD}
           let scale = weight[c] * invStd;
           let meanTerm = scale * (sums[c] / uniforms.rows);
           let centeredTerm = scale * (sums[uniforms.channels + c] * (invStd * invStd / uniforms.rows));
           value = (dz * scale - meanTerm) - (x[index] - mean[c]) * centeredTerm;`,
        ),
        [dy, x, mean, variance, weight, sums, ...masked],
        channels,
        [epsilon, rows],
      );
      // (Every input must be read: WebGPU drops unused bindings from the pipeline's layout, and the dispatch fails.)
      const dWeight = runProgram(
        backend,
        new ElementwiseProgram(
          'vkdBatchNormGradWeight',
          ['sums', 'variance'],
          [channels],
          ['epsilon'],
          `${INV_STD} value = sums[uniforms.channels + c] * invStd;`,
        ),
        [sums, variance],
        channels,
        [epsilon],
      );
      const dBias = runProgram(
        backend,
        new ElementwiseProgram('vkdBatchNormGradBias', ['sums'], [channels], [], 'value = sums[c];'),
        [sums],
        channels,
      );
      if (!shortcut) return [dx, dWeight, dBias];
      // The shortcut's gradient: dz (a new tensor also without a ReLU, so that the two may be disposed independently).
      const dShortcut = runProgram(
        backend,
        new ElementwiseProgram(
          `vkdReluGradient_${relu}`,
          ['dy', ...(relu ? ['y'] : [])],
          x.shape,
          [],
          `${dz(relu)} value = dz;`,
        ),
        [dy, ...masked],
        channels,
      );
      return [dx, dWeight, dBias, dShortcut];
    } finally {
      (backend as { disposeData(dataId: object): void }).disposeData(sums.dataId);
    }
  };
}
