import * as tf from '@tensorflow/tfjs-core';
import { scaledDifference } from '@vkd/testing';
import { expect } from 'vitest';
import type { BatchNormVariables } from '../src/layers/batch-norm';
import { convBatchNorm, type ConvGeometry } from '../src/layers/convolution';

// Cases and one training step of convBatchNorm's conv + BatchNorm (+ shortcut) (+ ReLU) unit, for the parity tests of
// the fused kernels (fused-units*.test.ts): output, moving statistics and every gradient (x, filter, γ, β, shortcut),
// strides 1/2 × kernels 1/3/7, with and without shortcut and ReLU, channels a multiple of 4 and not.

export interface UnitCase {
  readonly name: string;
  /** x [N, H, W, Ci]. */
  readonly x: [number, number, number, number];
  readonly outChannels: number;
  readonly geometry: ConvGeometry;
  readonly relu: boolean;
  readonly shortcut: boolean;
}

const geometry = (kernel: number, stride: number): ConvGeometry => ({
  kernel,
  stride,
  padding: (kernel - 1) / 2,
  dilation: 1,
});

export const CASES: readonly UnitCase[] = [
  {
    name: 'k1 s1 +shortcut relu',
    x: [2, 8, 6, 16],
    outChannels: 16,
    geometry: geometry(1, 1),
    relu: true,
    shortcut: true,
  },
  { name: 'k1 s2 no relu', x: [2, 9, 7, 8], outChannels: 32, geometry: geometry(1, 2), relu: false, shortcut: false },
  { name: 'k3 s1 relu', x: [2, 8, 8, 8], outChannels: 8, geometry: geometry(3, 1), relu: true, shortcut: false },
  {
    name: 'k3 s2 +shortcut relu',
    x: [2, 10, 9, 8],
    outChannels: 16,
    geometry: geometry(3, 2),
    relu: true,
    shortcut: true,
  },
  {
    name: 'k7 s2 relu (stem, C=3 in)',
    x: [2, 16, 12, 3],
    outChannels: 8,
    geometry: geometry(7, 2),
    relu: true,
    shortcut: false,
  },
  {
    name: 'k7 s1 +shortcut, no relu, C=6 (not a multiple of 4)',
    x: [1, 9, 9, 4],
    outChannels: 6,
    geometry: geometry(7, 1),
    relu: false,
    shortcut: true,
  },
];

export interface UnitResults {
  value: Float32Array;
  runningMean: Float32Array;
  runningVar: Float32Array;
  gradients: Record<string, Float32Array>;
  kernels: string[];
}

/** One training step of the unit; every input built from fixed seeds (same values on every backend). */
export async function runUnit(c: UnitCase): Promise<UnitResults> {
  const [n, h, w, ci] = c.x;
  const k = c.geometry.kernel;
  const s = c.geometry.stride;
  const outShape = [n, Math.floor((h - 1) / s) + 1, Math.floor((w - 1) / s) + 1, c.outChannels];
  // Variables share their initial tensor's data; the tidy frees those tensors.
  const { x, filter, weight, bias, runningMean, runningVar, shortcut, probe } = tf.tidy(() => ({
    x: tf.variable(tf.randomNormal(c.x, 0, 1, 'float32', 1)),
    filter: tf.variable(tf.randomNormal([k, k, ci, c.outChannels], 0, 0.3, 'float32', 2)),
    weight: tf.variable(tf.randomNormal([c.outChannels], 1, 0.5, 'float32', 3)),
    bias: tf.variable(tf.randomNormal([c.outChannels], 0, 0.5, 'float32', 4)),
    runningMean: tf.variable(tf.randomNormal([c.outChannels], 0, 1, 'float32', 5), false),
    runningVar: tf.variable(tf.abs(tf.randomNormal([c.outChannels], 1, 0.2, 'float32', 6)), false),
    shortcut: c.shortcut ? tf.variable(tf.randomNormal(outShape, 0, 1, 'float32', 7)) : undefined,
    probe: tf.keep(tf.randomNormal(outShape, 0, 1, 'float32', 8)),
  }));
  const bn: BatchNormVariables = { weight, bias, runningMean, runningVar };
  const variables = [x, filter, bn.weight, bn.bias, ...(shortcut ? [shortcut] : [])];
  let output: tf.Tensor | undefined;
  let grads: tf.NamedTensorMap = {};
  let loss: tf.Tensor | undefined;
  const profile = await tf.profile(() => {
    ({ value: loss, grads } = tf.variableGrads(() => {
      output = tf.keep(
        convBatchNorm(x as tf.Tensor4D, { filter, bn }, c.geometry, 'batch-update', {
          relu: c.relu,
          ...(shortcut ? { shortcut } : {}),
        }),
      );
      return tf.sum(tf.mul(output, probe)) as tf.Scalar;
    }, variables));
    return loss as tf.Tensor;
  });
  // Read asynchronously (webgpu has no synchronous reads in Node).
  const read = async (t: tf.Tensor) => (await t.data()) as Float32Array;
  const names = ['x', 'filter', 'weight', 'bias', 'shortcut'];
  const gradients: Record<string, Float32Array> = {};
  for (const [i, v] of variables.entries()) gradients[names[i] as string] = await read(grads[v.name] as tf.Tensor);
  const results: UnitResults = {
    value: await read(output as tf.Tensor),
    runningMean: await read(bn.runningMean),
    runningVar: await read(bn.runningVar),
    gradients,
    kernels: profile.kernels.map((kernel) => kernel.name),
  };
  tf.dispose([output as tf.Tensor, loss as tf.Tensor, ...Object.values(grads)]);
  tf.dispose([...variables, bn.runningMean, bn.runningVar, probe]);
  return results;
}

export function expectClose(actual: Float32Array, expected: Float32Array, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  expect(scaledDifference(actual, expected), what).toBeLessThanOrEqual(1e-4);
}

/** Output, moving statistics and every gradient of a unit step within 1e-4 (relative to each one's scale). */
export function expectUnitMatches(actual: UnitResults, expected: UnitResults): void {
  expectClose(actual.value, expected.value, 'output');
  expectClose(actual.runningMean, expected.runningMean, 'running mean');
  expectClose(actual.runningVar, expected.runningVar, 'running variance');
  for (const name of Object.keys(expected.gradients)) {
    expectClose(actual.gradients[name]!, expected.gradients[name]!, `d${name}`);
  }
}
