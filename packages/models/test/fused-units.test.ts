import { registerFastKernels, unregisterFastKernels } from '@vkd/backends';
import { BATCH_NORM_TRAINING_GRAD_KERNEL, BATCH_NORM_TRAINING_KERNEL } from '@vkd/core';
import { expectNoLeak, useBackend } from '@vkd/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { CASES, expectUnitMatches, runUnit, type UnitCase, type UnitResults } from './fused-unit-cases';

// The fused kernels of @vkd/backends (VkdBatchNormTraining / VkdBatchNormTrainingGrad) behind convBatchNorm's
// training unit on wasm, against the same unit composed from tfjs ops on the cpu backend (webgpu: the
// fused-units-webgpu test).

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
    expectUnitMatches(actual, expected);
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
