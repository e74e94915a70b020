import { env } from '@tensorflow/tfjs-core';
import type { Conv2DBackpropInputAttrs, KernelFunc } from '@tensorflow/tfjs-core';

/** tfjs-webgpu's switch between its naive input-gradient program (default) and its tiled implicit-GEMM one. */
export const NAIVE_CONV2D_TRANSPOSE_FLAG = 'WEBGPU_USE_NAIVE_CONV2D_TRANSPOSE';

/**
 * Creates a webgpu `Conv2DBackpropInput` that runs tfjs-webgpu's tiled implicit-GEMM program (workgroup-shared
 * tiles, like its forward convolution) for stride-1 NHWC convolutions — most of a ResNet's — and the default naive
 * program (one thread per output, skipping the taps a stride leaves out) for strided ones, where the tiled program
 * would spend stride² multiply-adds per useful one on inserted zeros. Both programs are tfjs-webgpu's own; this only
 * picks one per call and restores the flag's value afterwards (strided calls follow the flag as the user left it).
 */
export function createWebGpuConv2DBackpropInputKernel(original: KernelFunc): KernelFunc {
  return (args) => {
    const { strides, dataFormat } = args.attrs as unknown as Conv2DBackpropInputAttrs;
    const [strideHeight, strideWidth] = typeof strides === 'number' ? [strides, strides] : strides;
    if (dataFormat === 'NCHW' || strideHeight !== 1 || strideWidth !== 1) return original(args);
    const flags = env();
    const previous = flags.getBool(NAIVE_CONV2D_TRANSPOSE_FLAG);
    if (!previous) return original(args);
    flags.set(NAIVE_CONV2D_TRANSPOSE_FLAG, false);
    try {
      return original(args);
    } finally {
      flags.set(NAIVE_CONV2D_TRANSPOSE_FLAG, previous);
    }
  };
}
