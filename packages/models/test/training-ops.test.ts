import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeak, useBackend } from '@vkd/testing';
import {
  BATCH_NORM_EPSILON,
  BATCH_NORM_MOMENTUM,
  batchNorm,
  type BatchNormMode,
  type BatchNormVariables,
} from '../src/layers/batch-norm';
import { convBatchNorm, type ConvGeometry } from '../src/layers/convolution';
import { scaledDifference } from './torch-fixtures';

// The training ops (batch-statistics BatchNorm + shortcut + ReLU, and conv fused with them) have hand-written
// backward passes; here they are checked against tfjs autodiff through the plain op composition (tf.moments,
// arithmetic, tf.conv2d), and their tape is checked to hold fewer bytes.

function random(shape: number[], seed: number, mean = 0): tf.Tensor {
  return tf.randomNormal(shape, mean, 1, 'float32', seed);
}

function bnVariables(channels: number, seed: number): BatchNormVariables {
  return {
    weight: tf.variable(random([channels], seed, 1)),
    bias: tf.variable(random([channels], seed + 1)),
    runningMean: tf.variable(random([channels], seed + 2)),
    runningVar: tf.variable(tf.abs(random([channels], seed + 3, 1))),
  };
}

/** The reference: autodiff-able BatchNorm with batch statistics, + shortcut, + ReLU. */
function referenceNorm(x: tf.Tensor, bn: BatchNormVariables, relu: boolean, shortcut?: tf.Tensor): tf.Tensor {
  const axes = Array.from({ length: x.rank - 1 }, (_, axis) => axis);
  const { mean, variance } = tf.moments(x, axes);
  const normalised = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, BATCH_NORM_EPSILON)));
  let value = tf.add(tf.mul(normalised, bn.weight), bn.bias);
  if (shortcut) value = tf.add(value, shortcut);
  return relu ? tf.relu(value) : value;
}

function tfPad(geometry: ConvGeometry): 'valid' | [[0, 0], [number, number], [number, number], [0, 0]] {
  const p = geometry.padding;
  return p === 0
    ? 'valid'
    : [
        [0, 0],
        [p, p],
        [p, p],
        [0, 0],
      ];
}

interface Case {
  name: string;
  inputShape: [number, number, number, number];
  outChannels: number;
  geometry: ConvGeometry;
  relu: boolean;
  shortcut: boolean;
}

const CASES: Case[] = [
  {
    name: '3×3/2 pad 1 + ReLU',
    inputShape: [2, 7, 6, 3],
    outChannels: 5,
    geometry: { kernel: 3, stride: 2, padding: 1, dilation: 1 },
    relu: true,
    shortcut: false,
  },
  {
    name: '1×1 + shortcut + ReLU (block end)',
    inputShape: [3, 4, 5, 4],
    outChannels: 6,
    geometry: { kernel: 1, stride: 1, padding: 0, dilation: 1 },
    relu: true,
    shortcut: true,
  },
  {
    name: '1×1/2 downsample, no ReLU',
    inputShape: [2, 6, 6, 4],
    outChannels: 8,
    geometry: { kernel: 1, stride: 2, padding: 0, dilation: 1 },
    relu: false,
    shortcut: false,
  },
  {
    name: '3×3 + shortcut, no ReLU (removeLastBlockReLU)',
    inputShape: [2, 5, 4, 3],
    outChannels: 3,
    geometry: { kernel: 3, stride: 1, padding: 1, dilation: 1 },
    relu: false,
    shortcut: true,
  },
];

/** Gradients of Σ out·R w.r.t. [x, filter, γ, β, shortcut?] for the op under test and the reference. */
function gradients(
  testCase: Case,
  useReference: boolean,
  mode: BatchNormMode,
  inputIsData = false,
): { grads: tf.Tensor[]; value: tf.Tensor } {
  return tf.tidy(() => {
    const [n, h, w, c] = testCase.inputShape;
    const { kernel, stride } = testCase.geometry;
    const x = tf.variable(random(testCase.inputShape, 1, 0.5));
    const filter = tf.variable(random([kernel, kernel, c, testCase.outChannels], 2));
    const bn = bnVariables(testCase.outChannels, 3);
    const outHeight = Math.floor((h + 2 * testCase.geometry.padding - kernel) / stride) + 1;
    const outWidth = Math.floor((w + 2 * testCase.geometry.padding - kernel) / stride) + 1;
    const outShape = [n, outHeight, outWidth, testCase.outChannels];
    const shortcut = testCase.shortcut ? tf.variable(random(outShape, 7)) : undefined;
    const weights = random(outShape, 8);
    const variables = [x, filter, bn.weight, bn.bias, ...(shortcut ? [shortcut] : [])];
    const forward = () =>
      useReference
        ? referenceNorm(
            tf.conv2d(x as tf.Tensor4D, filter as tf.Tensor4D, stride, tfPad(testCase.geometry)),
            bn,
            testCase.relu,
            shortcut,
          )
        : convBatchNorm(x as tf.Tensor4D, { filter, bn }, testCase.geometry, mode, {
            relu: testCase.relu,
            inputIsData,
            ...(shortcut ? { shortcut } : {}),
          });
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(forward(), weights)) as tf.Scalar, variables);
    const result = { grads: variables.map((variable) => grads[variable.name] as tf.Tensor), value: forward() };
    tf.dispose([...variables, bn.runningMean, bn.runningVar]);
    return result;
  });
}

async function expectClose(actual: tf.Tensor, expected: tf.Tensor, tolerance = 1e-5): Promise<void> {
  expect(actual.shape).toEqual(expected.shape);
  expect(scaledDifference(await actual.data(), await expected.data())).toBeLessThan(tolerance);
}

describe('training ops with hand-written backward passes (cpu)', () => {
  beforeAll(() => useBackend('cpu'));

  it.each(CASES)('conv+BatchNorm op: $name — output and gradients match autodiff', async (testCase) => {
    for (const inputIsData of [false, true]) {
      const actual = gradients(testCase, false, 'batch-frozen', inputIsData);
      const expected = gradients(testCase, true, 'batch-frozen');
      await expectClose(actual.value, expected.value);
      for (let i = 0; i < expected.grads.length; i++)
        await expectClose(actual.grads[i] as tf.Tensor, expected.grads[i] as tf.Tensor);
      tf.dispose([actual.value, expected.value, ...actual.grads, ...expected.grads]);
    }
  });

  it.each([
    [[6, 5], false, false],
    [[6, 5], true, false],
    [[2, 3, 4, 5], true, true],
    [[2, 3, 4, 5], false, true],
  ] as const)(
    'BatchNorm op on %o (relu %s, shortcut %s): gradients match autodiff',
    async (shape, relu, withShortcut) => {
      const run = (useReference: boolean) =>
        tf.tidy(() => {
          const x = tf.variable(random([...shape], 11, 2));
          const shortcut = withShortcut ? tf.variable(random([...shape], 12)) : undefined;
          const bn = bnVariables(shape[shape.length - 1] as number, 13);
          const weights = random([...shape], 14);
          const variables = [x, bn.weight, bn.bias, ...(shortcut ? [shortcut] : [])];
          const { grads } = tf.variableGrads(() => {
            const value = useReference
              ? referenceNorm(x, bn, relu, shortcut)
              : batchNorm(x, bn, 'batch-frozen', { relu, ...(shortcut ? { shortcut } : {}) });
            return tf.sum(tf.mul(value, weights)) as tf.Scalar;
          }, variables);
          const result = variables.map((variable) => grads[variable.name] as tf.Tensor);
          tf.dispose([...variables, bn.runningMean, bn.runningVar]);
          return result;
        });
      const actual = run(false);
      const expected = run(true);
      for (let i = 0; i < expected.length; i++) await expectClose(actual[i] as tf.Tensor, expected[i] as tf.Tensor);
      tf.dispose([...actual, ...expected]);
    },
  );

  it('the fused op updates the moving statistics as PyTorch (unbiased variance, momentum 0.1) only in batch-update, with or without a tape', async () => {
    const x = random([2, 5, 4, 3], 21, 1) as tf.Tensor4D;
    const filter = tf.variable(random([3, 3, 3, 4], 22)) as tf.Variable;
    const geometry = { kernel: 3, stride: 1, padding: 1, dilation: 1 };
    for (const [mode, taped] of [
      ['batch-update', false],
      ['batch-update', true],
      ['batch-frozen', false],
      ['batch-frozen', true],
    ] as const) {
      const bn = bnVariables(4, 23);
      const [meanBefore, varBefore] = [tf.clone(bn.runningMean), tf.clone(bn.runningVar)];
      const forward = () => convBatchNorm(x, { filter, bn }, geometry, mode, { relu: true });
      // Untaped: the plain forward; taped: the custom-gradient op inside a gradient closure.
      tf.dispose(taped ? tf.variableGrads(() => tf.sum(forward()) as tf.Scalar, [filter]) : forward());
      const convolved = tf.conv2d(x, filter as tf.Tensor4D, 1, tfPad(geometry));
      const { mean, variance } = tf.moments(convolved, [0, 1, 2]);
      const count = 2 * 5 * 4;
      const blend = (moving: tf.Tensor, batch: tf.Tensor) =>
        tf.add(tf.mul(moving, 1 - BATCH_NORM_MOMENTUM), tf.mul(batch, BATCH_NORM_MOMENTUM));
      const expectedMean = mode === 'batch-update' ? blend(meanBefore, mean) : meanBefore;
      const expectedVar = mode === 'batch-update' ? blend(varBefore, tf.mul(variance, count / (count - 1))) : varBefore;
      await expectClose(bn.runningMean, expectedMean);
      await expectClose(bn.runningVar, expectedVar);
      tf.dispose([meanBefore, varBefore, convolved, mean, variance, expectedMean, expectedVar, ...Object.values(bn)]);
    }
    tf.dispose([x, filter]);
  });

  it('the ops leak no tensors, forward or inside variableGrads', async () => {
    const x = random([2, 6, 5, 3], 31) as tf.Tensor4D;
    const filter = tf.variable(random([3, 3, 3, 4], 32));
    const bn = bnVariables(4, 33);
    const geometry = { kernel: 3, stride: 2, padding: 1, dilation: 1 };
    const shortcut = random([2, 3, 3, 4], 34);
    for (const inputIsData of [false, true]) {
      await expectNoLeak(() =>
        convBatchNorm(x, { filter, bn }, geometry, 'batch-update', { relu: true, shortcut, inputIsData }),
      );
      await expectNoLeak(() =>
        tf.variableGrads(
          () =>
            tf.sum(
              convBatchNorm(x, { filter, bn }, geometry, 'batch-update', { relu: true, shortcut, inputIsData }),
            ) as tf.Scalar,
        ),
      );
    }
    const features = random([4, 4], 35);
    await expectNoLeak(() => batchNorm(features, bn, 'batch-update', { relu: true }));
    await expectNoLeak(() =>
      tf.variableGrads(() => tf.sum(batchNorm(features, bn, 'batch-frozen', { relu: false })) as tf.Scalar),
    );
    tf.dispose([x, filter, shortcut, features, ...Object.values(bn)]);
  });

  it('a stack of fused units keeps less than half the bytes of the separate-op composition alive during a train step', async () => {
    const geometry = { kernel: 3, stride: 1, padding: 1, dilation: 1 };
    const filters = [0, 1, 2, 3].map((index) => tf.variable(tf.mul(random([3, 3, 8, 8], 40 + index), 0.2)));
    const norms = [0, 1, 2, 3].map((index) => bnVariables(8, 50 + 4 * index));
    const input = random([4, 16, 16, 8], 60) as tf.Tensor4D;
    const peak = async (useReference: boolean) =>
      (
        await tf.profile(() => {
          tf.dispose(
            tf.variableGrads(() => {
              let x = input;
              filters.forEach((filter, index) => {
                const bn = norms[index] as BatchNormVariables;
                const last = index === filters.length - 1;
                x = useReference
                  ? (referenceNorm(
                      tf.fused.conv2d({ x, filter: filter as tf.Tensor4D, strides: 1, pad: tfPad(geometry) }),
                      bn,
                      true,
                      last ? input : undefined,
                    ) as tf.Tensor4D)
                  : convBatchNorm(x, { filter, bn }, geometry, 'batch-frozen', {
                      relu: true,
                      ...(last ? { shortcut: input } : {}),
                    });
              });
              return tf.sum(x) as tf.Scalar;
            }).grads,
          );
        })
      ).peakBytes;
    const before = tf.memory().numBytes;
    const fused = (await peak(false)) - before;
    const reference = (await peak(true)) - before;
    expect(fused).toBeLessThan(0.5 * reference);
    tf.dispose([...filters, input, ...norms.flatMap((bn) => Object.values(bn))]);
  });
});
