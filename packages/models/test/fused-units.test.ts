import * as tf from '@tensorflow/tfjs-core';
import { registerFastKernels, unregisterFastKernels } from '@vkd/backends';
import { BATCH_NORM_TRAINING_GRAD_KERNEL, BATCH_NORM_TRAINING_KERNEL } from '@vkd/core';
import { expectNoLeak, scaledDifference, useBackend } from '@vkd/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import type { BatchNormVariables } from '../src/layers/batch-norm';
import { convBatchNorm, type ConvGeometry } from '../src/layers/convolution';

// The fused kernels of @vkd/backends (VkdBatchNormTraining / VkdBatchNormTrainingGrad) behind convBatchNorm's
// training unit, against the same unit composed from tfjs ops on the cpu backend: output, moving statistics and
// every gradient (x, filter, γ, β, shortcut), strides 1/2 × kernels 1/3/7, with and without shortcut and ReLU.

interface UnitCase {
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

const CASES: readonly UnitCase[] = [
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

interface UnitResults {
  value: Float32Array;
  runningMean: Float32Array;
  runningVar: Float32Array;
  gradients: Record<string, Float32Array>;
  kernels: string[];
}

/** One training step of the unit; every input built from fixed seeds (same values on every backend). */
async function runUnit(c: UnitCase): Promise<UnitResults> {
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
  let value: Float32Array | undefined;
  const profile = await tf.profile(() => {
    const { value: loss, grads } = tf.variableGrads(() => {
      const y = convBatchNorm(x as tf.Tensor4D, { filter, bn }, c.geometry, 'batch-update', {
        relu: c.relu,
        ...(shortcut ? { shortcut } : {}),
      });
      value = y.dataSync() as Float32Array;
      return tf.sum(tf.mul(y, probe)) as tf.Scalar;
    }, variables);
    const names = ['x', 'filter', 'weight', 'bias', 'shortcut'];
    const gradients = Object.fromEntries(
      variables.map((v, i) => [names[i] as string, grads[v.name]!.dataSync() as Float32Array]),
    );
    tf.dispose([loss, ...Object.values(grads)]);
    return gradients as unknown as tf.Tensor;
  });
  const gradients = profile.result as unknown as Record<string, Float32Array>;
  const results: UnitResults = {
    value: value as Float32Array,
    runningMean: bn.runningMean.dataSync() as Float32Array,
    runningVar: bn.runningVar.dataSync() as Float32Array,
    gradients,
    kernels: profile.kernels.map((kernel) => kernel.name),
  };
  tf.dispose([...variables, bn.runningMean, bn.runningVar, probe]);
  return results;
}

function expectClose(actual: Float32Array, expected: Float32Array, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  expect(scaledDifference(actual, expected), what).toBeLessThanOrEqual(1e-4);
}

let reference: Map<string, UnitResults>;

beforeAll(async () => {
  await useBackend('cpu');
  reference = new Map();
  for (const c of CASES) reference.set(c.name, await runUnit(c));
});

describe('fused BatchNorm unit kernels on wasm vs the composed ops on cpu', () => {
  beforeAll(async () => {
    await useBackend('wasm');
    registerFastKernels('wasm');
  });

  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const expected = reference.get(c.name)!;
    expect(expected.kernels).not.toContain(BATCH_NORM_TRAINING_KERNEL);
    const actual = await expectNoLeak(() => runUnit(c));
    expect(actual.kernels).toContain(BATCH_NORM_TRAINING_KERNEL);
    expect(actual.kernels).toContain(BATCH_NORM_TRAINING_GRAD_KERNEL);
    expectClose(actual.value, expected.value, 'output');
    expectClose(actual.runningMean, expected.runningMean, 'running mean');
    expectClose(actual.runningVar, expected.runningVar, 'running variance');
    for (const name of Object.keys(expected.gradients)) {
      expectClose(actual.gradients[name]!, expected.gradients[name]!, `d${name}`);
    }
  });

  it('gives the same values, bit for bit, as the ops it replaces on wasm (channels a multiple of 4)', async () => {
    for (const c of [CASES[0], CASES[3]] as UnitCase[]) {
      const fused = await runUnit(c);
      unregisterFastKernels('wasm', { fused: 'only' });
      try {
        // The switch the benchmarks use: without the fused kernels the models compose the ops.
        const composed = await runUnit(c);
        expect(composed.kernels).not.toContain(BATCH_NORM_TRAINING_KERNEL);
        expect(fused.value).toEqual(composed.value);
        expect(fused.runningMean).toEqual(composed.runningMean);
        expect(fused.runningVar).toEqual(composed.runningVar);
        expect(fused.gradients).toEqual(composed.gradients);
      } finally {
        registerFastKernels('wasm');
      }
    }
  });
});
