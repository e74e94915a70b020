import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeak, scaledDifference, useBackend } from '@vkd/testing';
import { depthwiseConvolve } from '../src/layers/depthwise-convolution';

describe('depthwiseConvolve', () => {
  beforeAll(() => useBackend('cpu'));

  it.each<[number, number, [number, number, number, number]]>([
    [1, 1, [2, 7, 6, 5]],
    [2, 1, [2, 9, 8, 3]],
    [2, 1, [1, 10, 5, 4]],
    [1, 0, [2, 6, 6, 2]],
  ])(
    'stride %i pad %i on %j: the composed gradients (wasm path) equal the cpu backend’s native kernels',
    async (stride, pad, shape) => {
      const x = tf.randomNormal(shape, 0, 1, 'float32', 1) as tf.Tensor4D;
      const filter = tf.randomNormal([3, 3, shape[3] as number, 1], 0, 1, 'float32', 2) as tf.Tensor4D;
      const outputShape = tf.tidy(() => depthwiseConvolve(x, filter, stride, pad, false).shape);
      const weights = tf.randomNormal(outputShape, 0, 1, 'float32', 3);
      const loss = (composed: boolean) => (input: tf.Tensor, kernel: tf.Tensor) =>
        tf.sum(
          tf.mul(depthwiseConvolve(input as tf.Tensor4D, kernel as tf.Tensor4D, stride, pad, composed), weights),
        ) as tf.Scalar;
      const native = tf.grads(loss(false))([x, filter]);
      const composed = await expectNoLeak(async () => {
        const [dx, dfilter] = tf.grads(loss(true))([x, filter]) as [tf.Tensor, tf.Tensor];
        expect(dx.shape).toEqual(x.shape);
        expect(dfilter.shape).toEqual(filter.shape);
        return { dx: await dx.data(), dfilter: await dfilter.data(), tensors: [dx, dfilter] };
      });
      expect(scaledDifference(composed.dx, await native[0]!.data())).toBeLessThan(1e-6);
      expect(scaledDifference(composed.dfilter, await native[1]!.data())).toBeLessThan(1e-6);
      const forward = [
        depthwiseConvolve(x, filter, stride, pad, true),
        depthwiseConvolve(x, filter, stride, pad, false),
      ];
      expect(await forward[0]!.data()).toEqual(await forward[1]!.data());
      tf.dispose([x, filter, weights, ...native, ...forward]);
    },
  );
});
