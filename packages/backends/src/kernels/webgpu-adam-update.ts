import type { KernelFunc } from '@tensorflow/tfjs-core';
import { adamUpdateArguments } from './fused-kernel-arguments';
import { ElementwiseProgram, runProgram } from './webgpu-fused-programs';

const UNIFORMS = [
  'weightDecay',
  'beta1',
  'oneMinusBeta1',
  'beta2',
  'oneMinusBeta2',
  'correction',
  'epsilon',
  'negativeStep',
];
const GRADIENT = 'let g = gradient[index] + uniforms.weightDecay * weights[index];';

/**
 * `VkdAdamUpdate` (see @vkd/core's fused-kernels) on webgpu: three element-wise WGSL programs (new m, new v, then the
 * new weights from them), one kernel for the engine, instead of ~12 per variable.
 */
export function createWebGpuAdamUpdateKernel(): KernelFunc {
  return (args) => {
    const { backend } = args;
    const { weights, gradient, m, v, scalars: floats } = adamUpdateArguments(args);
    const shape = weights.shape;
    const program = (key: string, names: string[], body: string) =>
      new ElementwiseProgram(`vkdAdam_${key}`, names, shape, UNIFORMS, body);
    // channels = 1: these programs index every tensor by the flat index alone.
    const mNew = runProgram(
      backend,
      program(
        'm',
        ['weights', 'gradient', 'm'],
        `${GRADIENT} value = uniforms.beta1 * m[index] + uniforms.oneMinusBeta1 * g;`,
      ),
      [weights, gradient, m],
      1,
      floats,
    );
    const vNew = runProgram(
      backend,
      program(
        'v',
        ['weights', 'gradient', 'v'],
        `${GRADIENT} value = uniforms.beta2 * v[index] + uniforms.oneMinusBeta2 * (g * g);`,
      ),
      [weights, gradient, v],
      1,
      floats,
    );
    const wNew = runProgram(
      backend,
      program(
        'w',
        ['weights', 'mNew', 'vNew'],
        'value = weights[index] + uniforms.negativeStep * (mNew[index] / (sqrt(vNew[index]) / uniforms.correction + uniforms.epsilon));',
      ),
      [weights, mNew, vNew],
      1,
      floats,
    );
    return [wNew, mNew, vNew];
  };
}
