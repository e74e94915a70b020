import { scaledDifference } from '@vkd/testing';
import * as tf from '@tensorflow/tfjs-core';
import { createRandom } from '@vkd/core';
import { expect } from 'vitest';

/** Padding forms a conv layer can use: 'same', 'valid', a number, or explicit NHWC pairs. */
export type ConvPad =
  | 'same'
  | 'valid'
  | number
  | [[number, number], [number, number], [number, number], [number, number]];

/** One convolution geometry: x `[N, H, W, Ci]`, filter `[k, k, Ci, Co]`. */
export interface ConvCase {
  readonly name: string;
  readonly xShape: [number, number, number, number];
  readonly kernel: number;
  readonly outChannels: number;
  readonly stride: number;
  readonly pad: ConvPad;
}

/** Strides 1/2 (and 3) × kernels 1/3/7 × all padding forms, with shapes big enough for the fast dx path (N·H·W ≥ 128). */
export const CONV_CASES: readonly ConvCase[] = [
  { name: 'k3 s1 same', xShape: [2, 9, 8, 3], kernel: 3, outChannels: 4, stride: 1, pad: 'same' },
  { name: 'k3 s2 same', xShape: [2, 10, 9, 3], kernel: 3, outChannels: 5, stride: 2, pad: 'same' },
  { name: 'k1 s1 valid', xShape: [2, 8, 8, 4], kernel: 1, outChannels: 3, stride: 1, pad: 'valid' },
  { name: 'k1 s2 valid (odd H)', xShape: [2, 9, 11, 4], kernel: 1, outChannels: 6, stride: 2, pad: 'valid' },
  { name: 'k7 s2 numeric 3', xShape: [2, 16, 12, 3], kernel: 7, outChannels: 4, stride: 2, pad: 3 },
  { name: 'k7 s1 valid', xShape: [1, 14, 13, 2], kernel: 7, outChannels: 3, stride: 1, pad: 'valid' },
  {
    name: 'k3 s2 explicit asymmetric',
    xShape: [2, 11, 10, 3],
    kernel: 3,
    outChannels: 4,
    stride: 2,
    pad: [
      [0, 0],
      [1, 2],
      [0, 1],
      [0, 0],
    ],
  },
  { name: 'k3 s1 numeric 1', xShape: [2, 8, 9, 3], kernel: 3, outChannels: 2, stride: 1, pad: 1 },
  {
    name: 'k1 s1 explicit pad > kernel',
    xShape: [2, 8, 8, 2],
    kernel: 1,
    outChannels: 3,
    stride: 1,
    pad: [
      [0, 0],
      [2, 1],
      [1, 2],
      [0, 0],
    ],
  },
  {
    name: 'k1 s2 explicit pad > kernel',
    xShape: [2, 9, 8, 2],
    kernel: 1,
    outChannels: 3,
    stride: 2,
    pad: [
      [0, 0],
      [2, 1],
      [1, 0],
      [0, 0],
    ],
  },
  {
    name: 'k3 s3 valid (phases without taps)',
    xShape: [2, 11, 10, 3],
    kernel: 3,
    outChannels: 4,
    stride: 3,
    pad: 'valid',
  },
  { name: 'k7 s2 same, odd sizes', xShape: [2, 13, 11, 2], kernel: 7, outChannels: 3, stride: 2, pad: 'same' },
  {
    name: 'k3 s1 same, large N·OH·OW (split-K on webgpu)',
    xShape: [2, 40, 32, 4],
    kernel: 3,
    outChannels: 6,
    stride: 1,
    pad: 'same',
  },
  { name: 'k3 s2 same, tiny (dx fallback)', xShape: [1, 5, 5, 2], kernel: 3, outChannels: 3, stride: 2, pad: 'same' },
  // Channels that are multiples of 8: the SIMD kernels' path on wasm.
  { name: 'k3 s1 same, 8 → 16 channels', xShape: [2, 9, 7, 8], kernel: 3, outChannels: 16, stride: 1, pad: 'same' },
  { name: 'k3 s2 numeric 1, 16 → 8 channels', xShape: [2, 11, 9, 16], kernel: 3, outChannels: 8, stride: 2, pad: 1 },
  {
    name: 'k7 s2 numeric 3, 3 → 8 channels (stem)',
    xShape: [2, 16, 12, 3],
    kernel: 7,
    outChannels: 8,
    stride: 2,
    pad: 3,
  },
  { name: 'k1 s2 valid, 16 → 24 channels', xShape: [2, 9, 8, 16], kernel: 1, outChannels: 24, stride: 2, pad: 'valid' },
  {
    name: 'k3 s2 explicit asymmetric, 8 → 8 channels',
    xShape: [2, 11, 10, 8],
    kernel: 3,
    outChannels: 8,
    stride: 2,
    pad: [
      [0, 0],
      [1, 2],
      [0, 1],
      [0, 0],
    ],
  },
];

/** Seeded normal values, reproducible across backends. */
export function randomValues(size: number, seed: number): Float32Array {
  const random = createRandom(seed);
  return Float32Array.from({ length: size }, () => random.normal());
}

/** Output shape of the forward convolution of `c`. */
export function outputShape(c: ConvCase): [number, number, number, number] {
  const info = tf.backend_util.computeConv2DInfo(
    c.xShape,
    [c.kernel, c.kernel, c.xShape[3], c.outChannels],
    c.stride,
    1,
    c.pad,
  );
  return info.outShape;
}

/** Outputs of the convolution kernels for one case: forward (`Conv2D`, `FusedConv2D` without bias) and gradients. */
export interface ConvResults {
  readonly y: Float32Array;
  readonly fused: Float32Array;
  readonly dW: Float32Array;
  readonly dx: Float32Array;
}

/** Runs the forward, dW and dx kernels of the active backend on the case's seeded inputs and reads them back. */
export async function convGradients(c: ConvCase): Promise<ConvResults> {
  const filterShape: [number, number, number, number] = [c.kernel, c.kernel, c.xShape[3], c.outChannels];
  const dyShape = outputShape(c);
  const x = tf.tensor4d(randomValues(tf.util.sizeFromShape(c.xShape), 1), c.xShape);
  const filter = tf.tensor4d(randomValues(tf.util.sizeFromShape(filterShape), 2), filterShape);
  const dy = tf.tensor4d(randomValues(tf.util.sizeFromShape(dyShape), 3), dyShape);
  try {
    const common = { strides: [c.stride, c.stride], pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: undefined };
    const y = tf.engine().runKernel('Conv2D', { x, filter }, { ...common, dilations: [1, 1] } as never) as tf.Tensor;
    const fused = tf.engine().runKernel('FusedConv2D', { x, filter }, {
      ...common,
      dilations: [1, 1],
      activation: 'linear',
    } as never) as tf.Tensor;
    const dW = tf
      .engine()
      .runKernel('Conv2DBackpropFilter', { x, dy }, { ...common, filterShape } as never) as tf.Tensor;
    const dx = tf
      .engine()
      .runKernel('Conv2DBackpropInput', { dy, filter }, { ...common, inputShape: c.xShape } as never) as tf.Tensor;
    try {
      const read = async (t: tf.Tensor) => (await t.data()) as Float32Array;
      return { y: await read(y), fused: await read(fused), dW: await read(dW), dx: await read(dx) };
    } finally {
      tf.dispose([y, fused, dW, dx]);
    }
  } finally {
    tf.dispose([x, filter, dy]);
  }
}

export { scaledDifference };

/** Gradients of every case computed on the cpu backend's reference kernels (call with `cpu` active, unpatched). */
export async function referenceGradients(): Promise<Map<string, ConvResults>> {
  const reference = new Map<string, ConvResults>();
  for (const c of CONV_CASES) reference.set(c.name, await convGradients(c));
  return reference;
}

/**
 * Runs the case on the active backend and checks the forward outputs and both gradients against `expected` within 1e-4 of their scale,
 * and that no backend buffer (tensor or kernel intermediate) is left behind.
 */
export async function expectGradientsMatch(c: ConvCase, expected: ConvResults): Promise<void> {
  const before = tf.memory().numDataBuffers;
  const actual = await convGradients(c);
  expect(tf.memory().numDataBuffers).toBe(before);
  expect(scaledDifference(actual.y, expected.y)).toBeLessThan(1e-4);
  expect(scaledDifference(actual.fused, expected.y)).toBeLessThan(1e-4);
  expect(scaledDifference(actual.dW, expected.dW)).toBeLessThan(1e-4);
  expect(scaledDifference(actual.dx, expected.dx)).toBeLessThan(1e-4);
}
