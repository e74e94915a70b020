import { util } from '@tensorflow/tfjs-core';
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { adamUpdateArguments } from './fused-kernel-arguments';
import { normEngineOf } from './wasm-batch-norm-training';

/**
 * `VkdAdamUpdate` (see @vkd/core's fused-kernels) on the wasm backend: one SIMD pass over the weights, gradient and
 * moments on the backend's heap, writing the three new tensors — instead of ~12 tfjs kernels per variable. Same
 * float32 operations in the same order as the composed update, so the same values.
 */
export function createWasmAdamUpdateKernel(kernelName: string): KernelFunc {
  return (args) => {
    const { weights, gradient, m, v, weightDecay, scalars } = adamUpdateArguments(args);
    const engine = normEngineOf(args.backend, kernelName);
    const size = util.sizeFromShape(weights.shape);
    const outputs = [0, 1, 2].map(() => engine.output([...weights.shape])) as [TensorInfo, TensorInfo, TensorInfo];
    engine.call(
      `adam${weightDecay !== 0 ? 1 : 0}`,
      ...[weights, gradient, m, v, ...outputs].map((t) => engine.pointer(t)),
      1,
      size,
      ...scalars,
    );
    return outputs;
  };
}
