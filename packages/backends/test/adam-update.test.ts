import * as tf from '@tensorflow/tfjs-core';
import { ADAM_UPDATE_KERNEL, type AdamUpdateAttrs } from '@vkd/core';
import { expectNoLeak, scaledDifference, useBackend } from '@vkd/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerFastKernels, SOFTWARE_WEBGPU, selectBackend } from '../src/index';

// The fused Adam kernel (VkdAdamUpdate) against PyTorch's Adam update written out as tfjs ops on the cpu backend, on
// wasm and on webgpu over Mesa llvmpipe (the CI path of webgpu-software.test.ts: it needs the Mesa EGL packages).

const ATTRS: AdamUpdateAttrs = {
  stepSize: 1e-3 / (1 - 0.9 ** 3),
  rootCorrection2: Math.sqrt(1 - 0.999 ** 3),
  beta1: 0.9,
  beta2: 0.999,
  epsilon: 1e-8,
  weightDecay: 1e-2,
};

/** weights, gradient, m, v of `size` values (v ≥ 0), the same on every backend. */
function inputs(size: number) {
  return {
    weights: tf.randomNormal([size], 0, 1, 'float32', 1),
    gradient: tf.randomNormal([size], 0, 0.1, 'float32', 2),
    m: tf.randomNormal([size], 0, 0.01, 'float32', 3),
    v: tf.abs(tf.randomNormal([size], 0, 0.001, 'float32', 4)),
  };
}

function reference(size: number, a: AdamUpdateAttrs): Float32Array[] {
  return tf.tidy(() => {
    const { weights, gradient, m, v } = inputs(size);
    const g = tf.add(gradient, tf.mul(a.weightDecay, weights));
    const m1 = tf.add(tf.mul(a.beta1, m), tf.mul(1 - a.beta1, g));
    const v1 = tf.add(tf.mul(a.beta2, v), tf.mul(1 - a.beta2, tf.square(g)));
    const w1 = tf.sub(
      weights,
      tf.mul(a.stepSize, tf.div(m1, tf.add(tf.div(tf.sqrt(v1), a.rootCorrection2), a.epsilon))),
    );
    return [w1, m1, v1].map((t) => t.dataSync() as Float32Array);
  });
}

const SIZES = [1, 7, 64, 1001];
let expected: Map<string, Float32Array[]>;

beforeAll(async () => {
  await useBackend('cpu');
  expected = new Map();
  for (const size of SIZES)
    for (const weightDecay of [0, ATTRS.weightDecay])
      expected.set(`${size}/${weightDecay}`, reference(size, { ...ATTRS, weightDecay }));
});

const BACKENDS: Record<string, () => Promise<void>> = {
  wasm: async () => {
    await useBackend('wasm');
    registerFastKernels('wasm');
  },
  webgpu: async () => {
    const selected = await selectBackend({ device: 'webgpu', webgpu: SOFTWARE_WEBGPU });
    expect(selected.fastKernels.kernels).toContain(ADAM_UPDATE_KERNEL);
  },
};

describe.each(Object.keys(BACKENDS))('VkdAdamUpdate on %s vs the update composed from ops on cpu', (backend) => {
  beforeAll(() => BACKENDS[backend]!());

  it.each(SIZES.flatMap((size) => [0, ATTRS.weightDecay].map((wd) => [size, wd] as const)))(
    '%i values, weight decay %f',
    async (size, weightDecay) => {
      const actual = await expectNoLeak(async () => {
        const outputs = tf.tidy(
          () =>
            tf.engine().runKernel(ADAM_UPDATE_KERNEL, inputs(size), {
              ...ATTRS,
              weightDecay,
            } as unknown as tf.NamedAttrMap) as tf.Tensor[],
        );
        const values = await Promise.all(outputs.map(async (t) => (await t.data()) as Float32Array));
        tf.dispose(outputs);
        return values;
      });
      const want = expected.get(`${size}/${weightDecay}`)!;
      ['weights', 'm', 'v'].forEach((name, i) => {
        expect(scaledDifference(actual[i]!, want[i]!), name).toBeLessThanOrEqual(1e-6);
      });
    },
  );

  it('updates every value of a tensor larger than one WebGPU dispatch dimension holds (64·65535 + 5)', async () => {
    const size = 64 * 65535 + 5;
    const f = Math.fround;
    // w = 1, g = 0.5, m = v = 0: every output value is the same, so a value the dispatch missed shows.
    const g = f(0.5 + f(f(ATTRS.weightDecay) * 1));
    const m = f(f(1 - ATTRS.beta1) * g);
    const v = f(f(1 - ATTRS.beta2) * f(g * g));
    const w = f(1 + f(f(-ATTRS.stepSize) * f(m / f(f(f(Math.sqrt(v)) / f(ATTRS.rootCorrection2)) + f(ATTRS.epsilon)))));
    const outputs = tf.tidy(
      () =>
        tf
          .engine()
          .runKernel(
            ADAM_UPDATE_KERNEL,
            { weights: tf.ones([size]), gradient: tf.fill([size], 0.5), m: tf.zeros([size]), v: tf.zeros([size]) },
            ATTRS as unknown as tf.NamedAttrMap,
          ) as tf.Tensor[],
    );
    const values = await Promise.all(outputs.map(async (t) => (await t.data()) as Float32Array));
    tf.dispose(outputs);
    [w, m, v].forEach((want, i) => {
      const got = values[i]!;
      let wrong = 0;
      for (let j = 0; j < size; j++) if (Math.abs(got[j]! - want) > 1e-6 * Math.abs(want)) wrong++;
      expect(wrong, ['weights', 'm', 'v'][i]).toBe(0);
    });
  });
});
