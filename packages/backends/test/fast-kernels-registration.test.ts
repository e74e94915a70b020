import * as tf from '@tensorflow/tfjs-core';
import { InvalidOptionError } from '@vkd/core';
import { expectNoLeak, maxRelativeDifference, useBackend } from '@vkd/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerFastKernels, unregisterFastKernels } from '../src/index';
import { randomValues } from './conv-cases';

/** Gradient of a small conv net (conv s2 → relu → conv → gather rows → sum of squares) w.r.t. its input and filters. */
async function netGradients(): Promise<Float32Array[]> {
  const x = tf.tensor4d(randomValues(2 * 12 * 10 * 3, 7), [2, 12, 10, 3]);
  const w1 = tf.tensor4d(randomValues(3 * 3 * 3 * 4, 8), [3, 3, 3, 4]);
  const w2 = tf.tensor4d(randomValues(1 * 1 * 4 * 5, 9), [1, 1, 4, 5]);
  const rows = tf.tensor1d([0, 2, 2, 5, -1 + 2], 'int32');
  try {
    const grads = tf.grads((input: tf.Tensor, a: tf.Tensor, b: tf.Tensor) => {
      const h = tf.relu(tf.conv2d(input as tf.Tensor4D, a as tf.Tensor4D, 2, 'same'));
      const y = tf.conv2d(h, b as tf.Tensor4D, 1, 'valid');
      const flat = tf.reshape(y, [-1, 5]);
      return tf.sum(tf.square(tf.gather(flat, rows)));
    });
    const result = grads([x, w1, w2]);
    const values = await Promise.all(result.map(async (g) => (await g.data()) as Float32Array));
    tf.dispose(result);
    return values;
  } finally {
    tf.dispose([x, w1, w2, rows]);
  }
}

describe('registerFastKernels', () => {
  let reference: Float32Array[];

  beforeAll(async () => {
    await useBackend('cpu');
    unregisterFastKernels('cpu');
    reference = await netGradients();
  });

  it('makes wasm train (conv filter and gather gradients) with gradients equal to the cpu reference', async () => {
    await useBackend('wasm');
    unregisterFastKernels('wasm');
    await expect(netGradients()).rejects.toThrow(/not registered for backend 'wasm'/);
    registerFastKernels('wasm');
    const actual = await expectNoLeak(() => netGradients());
    actual.forEach((values, i) => expect(maxRelativeDifference(values, reference[i]!, 1e-2)).toBeLessThan(1e-4));
  });

  it('is idempotent and reports the same kernels on a second call', async () => {
    await useBackend('wasm');
    const first = registerFastKernels('wasm');
    const kernel = tf.getKernel('Conv2DBackpropInput', 'wasm');
    const second = registerFastKernels();
    expect(second).toEqual(first);
    expect(first.kernels).toEqual([
      'Conv2D',
      'FusedConv2D',
      'Conv2DBackpropFilter',
      'Conv2DBackpropInput',
      'BatchMatMul',
      'MaxPoolGrad',
      'UnsortedSegmentSum',
      'Sum',
      'Mean',
      'Identity',
      'VkdBatchNormTraining',
      'VkdBatchNormTrainingGrad',
      'VkdAdamUpdate',
    ]);
    expect(tf.getKernel('Conv2DBackpropInput', 'wasm')).toBe(kernel);
  });

  it('switches the fused training kernels off and on alone (options.fused)', async () => {
    await useBackend('wasm');
    registerFastKernels('wasm');
    const fused = ['VkdBatchNormTraining', 'VkdBatchNormTrainingGrad', 'VkdAdamUpdate'];
    expect(unregisterFastKernels('wasm', { fused: 'only' }).kernels).toEqual(fused);
    for (const name of fused) expect(tf.getKernel(name, 'wasm')).toBeUndefined();
    expect(tf.getKernel('Conv2DBackpropInput', 'wasm')).toBeDefined();
    expect(registerFastKernels('wasm', { fused: false }).kernels).not.toContain('VkdAdamUpdate');
    expect(tf.getKernel('VkdAdamUpdate', 'wasm')).toBeUndefined();
    expect(registerFastKernels('wasm', { fused: 'only' }).kernels).toEqual(fused);
    for (const name of fused) expect(tf.getKernel(name, 'wasm')).toBeDefined();
    expect(() => registerFastKernels('wasm', { fused: 'yes' as unknown as boolean })).toThrow(/fused/);
  });

  it('restores the original kernels with unregisterFastKernels', async () => {
    await useBackend('cpu');
    const original = tf.getKernel('Conv2DBackpropFilter', 'cpu');
    expect(registerFastKernels('cpu').kernels).toEqual(['Conv2DBackpropFilter']);
    expect(tf.getKernel('Conv2DBackpropFilter', 'cpu')).not.toBe(original);
    expect(unregisterFastKernels('cpu').kernels).toEqual(['Conv2DBackpropFilter']);
    expect(tf.getKernel('Conv2DBackpropFilter', 'cpu')?.kernelFunc).toBe(original?.kernelFunc);
    expect(unregisterFastKernels('cpu').kernels).toEqual([]);
  });

  it('computes UnsortedSegmentSum on wasm like the cpu kernel, ignoring out-of-range ids', async () => {
    const run = async () => {
      const x = tf.tensor3d(randomValues(6 * 2 * 3, 11), [6, 2, 3]);
      const ids = tf.tensor1d([3, 0, 3, -1, 1, 4], 'int32');
      const sum = tf.unsortedSegmentSum(x, ids, 4);
      const values = (await sum.data()) as Float32Array;
      tf.dispose([x, ids, sum]);
      return { values, shape: sum.shape };
    };
    await useBackend('cpu');
    const expected = await run();
    await useBackend('wasm');
    registerFastKernels('wasm');
    const actual = await expectNoLeak(run);
    expect(actual.shape).toEqual([4, 2, 3]);
    expect(maxRelativeDifference(actual.values, expected.values, 1e-3)).toBeLessThan(1e-5);
  });

  it('leaves other backends alone and rejects unknown backend names', async () => {
    await useBackend('cpu');
    expect(() => registerFastKernels('no-such-backend')).toThrow(InvalidOptionError);
    expect(() => registerFastKernels('no-such-backend')).toThrow(/no backend named 'no-such-backend'/);
  });
});

describe('NCHW convolution gradients on wasm', () => {
  // tfjs can run the gradient kernels with dataFormat 'NCHW'; the wasm forward Conv2D is NHWC only, so the filter
  // gradient transposes NCHW inputs itself and the input gradient keeps the original (NCHW-capable) kernel.
  const run = async () => {
    const x = tf.tensor4d(randomValues(2 * 3 * 10 * 9, 21), [2, 3, 10, 9]);
    const dy = tf.tensor4d(randomValues(2 * 4 * 5 * 5, 22), [2, 4, 5, 5]);
    const filter = tf.tensor4d(randomValues(3 * 3 * 3 * 4, 23), [3, 3, 3, 4]);
    const attrs = { strides: [2, 2], pad: 'same', dataFormat: 'NCHW', dimRoundingMode: undefined };
    const dW = tf
      .engine()
      .runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: [3, 3, 3, 4] } as never) as tf.Tensor;
    const dx = tf
      .engine()
      .runKernel('Conv2DBackpropInput', { dy, filter }, { ...attrs, inputShape: [2, 3, 10, 9] } as never) as tf.Tensor;
    const values = [(await dW.data()) as Float32Array, (await dx.data()) as Float32Array];
    tf.dispose([x, dy, filter, dW, dx]);
    return values;
  };

  it('matches the cpu reference kernels', async () => {
    await useBackend('cpu');
    unregisterFastKernels('cpu');
    const expected = await run();
    await useBackend('wasm');
    registerFastKernels('wasm');
    const actual = await expectNoLeak(run);
    actual.forEach((values, i) => expect(maxRelativeDifference(values, expected[i]!, 1e-2)).toBeLessThan(1e-4));
  });
});

describe('wasm Identity (the engine clones every tensor saved for the backward pass)', () => {
  it('shares the data instead of copying it, and frees it with the last reference', async () => {
    await useBackend('wasm');
    registerFastKernels('wasm');
    const buffers = tf.memory().numDataBuffers;
    const x = tf.tensor2d([1, 2, 3, 4], [2, 2]);
    const copy = tf.clone(x);
    expect(tf.memory().numDataBuffers).toBe(buffers + 1); // one buffer, two tensors
    x.dispose();
    expect(Array.from(await copy.data())).toEqual([1, 2, 3, 4]);
    copy.dispose();
    expect(tf.memory().numDataBuffers).toBe(buffers);
    const words = tf.tensor1d(['a', 'b'], 'string'); // strings keep the copying kernel
    const wordsCopy = tf.clone(words);
    expect(await wordsCopy.data()).toEqual(['a', 'b']);
    tf.dispose([words, wordsCopy]);
    expect(tf.memory().numDataBuffers).toBe(buffers);
  });
});
