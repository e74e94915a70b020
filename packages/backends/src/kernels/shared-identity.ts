import type { KernelBackend, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';

/**
 * Creates an `Identity` kernel that shares the input's data (one more reference) instead of copying it, as the
 * cpu and webgpu backends do. The engine runs `Identity` for every tensor it saves for the backward pass (its
 * `clone`), so on wasm, whose `Identity` copies, each saved activation existed twice: ResNet-50 at 256×128 needed
 * ~250 MB of wasm heap per image and batch 8 did not fit in the 4 GiB heap. Strings keep `fallback` (the copy).
 */
export function createSharedIdentityKernel(fallback: KernelFunc): KernelFunc {
  return (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    if (x.dtype === 'string') return fallback(args);
    (args.backend as KernelBackend).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
}
