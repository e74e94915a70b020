import * as tf from '@tensorflow/tfjs-core';
import { expectNoLeak, maxRelativeDifference, useBackend } from '@vkd/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerFastKernels } from '../src/index';
import { randomValues } from './conv-cases';

type Pool = {
  name: string;
  shape: [number, number, number, number];
  size: number;
  stride: number;
  pad: 'same' | 'valid' | number;
  zeros?: boolean;
};

// ResNet's stem pool (3×3/2, pad 1) with the ties a ReLU leaves, other geometries, a channel count that is not a
// multiple of 4 (tfjs-wasm's own kernel disagrees with the cpu kernel on that 'same'-padded case).
const POOLS: readonly Pool[] = [
  {
    name: '3×3/2 pad 1 on ReLU output (many tied zeros), 64 channels',
    shape: [2, 16, 12, 64],
    size: 3,
    stride: 2,
    pad: 1,
    zeros: true,
  },
  { name: '3×3/2 same, odd sizes, 8 channels', shape: [2, 11, 9, 8], size: 3, stride: 2, pad: 'same' },
  { name: '2×2/2 valid, 4 channels', shape: [3, 8, 6, 4], size: 2, stride: 2, pad: 'valid' },
  {
    name: '3×3/1 same (overlapping windows), 12 channels, ties',
    shape: [1, 7, 7, 12],
    size: 3,
    stride: 1,
    pad: 'same',
    zeros: true,
  },
  { name: '3×3/2 same, 3 channels (padded to 4 lanes)', shape: [2, 9, 9, 3], size: 3, stride: 2, pad: 'same' },
];

async function poolGradient(p: Pool): Promise<Float32Array> {
  const gradient = tf.tidy(() => {
    let x = tf.tensor4d(randomValues(tf.util.sizeFromShape(p.shape), 11), p.shape);
    if (p.zeros) x = tf.relu(x);
    const dy = (y: tf.Tensor) => tf.tensor(randomValues(y.size, 12), y.shape);
    const grad = tf.grad((input: tf.Tensor) => {
      const y = tf.maxPool(input as tf.Tensor4D, p.size, p.stride, p.pad);
      return tf.sum(tf.mul(y, dy(y)));
    });
    return grad(x);
  });
  const values = (await gradient.data()) as Float32Array;
  gradient.dispose();
  return values;
}

describe('wasm MaxPoolGrad (first maximum of each window, as PyTorch)', () => {
  const expected = new Map<string, Float32Array>();

  beforeAll(async () => {
    await useBackend('cpu');
    for (const p of POOLS) expected.set(p.name, await poolGradient(p));
    await useBackend('wasm');
    registerFastKernels('wasm');
  });

  it.each(POOLS.map((p) => [p.name, p] as const))('%s matches the cpu kernel, leak-free', async (_name, p) => {
    const actual = await expectNoLeak(() => poolGradient(p));
    expect(maxRelativeDifference(actual, expected.get(p.name)!, 1e-3)).toBeLessThan(1e-5);
  });
});
