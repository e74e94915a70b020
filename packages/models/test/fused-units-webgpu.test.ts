import { SOFTWARE_WEBGPU, selectBackend } from '@vkd/backends';
import { BATCH_NORM_TRAINING_GRAD_KERNEL, BATCH_NORM_TRAINING_KERNEL } from '@vkd/core';
import { expectNoLeak, useBackend } from '@vkd/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { CASES, expectUnitMatches, runUnit, type UnitResults } from './fused-unit-cases';

// The WGSL fused kernels of @vkd/backends behind convBatchNorm's training unit, on webgpu over Mesa llvmpipe (the CI
// path, as packages/backends/test/webgpu-software.test.ts: without the Mesa EGL packages this file fails, by design,
// with the reason selectBackend gives), against the same unit composed from tfjs ops on the cpu backend.

let reference: Map<string, UnitResults>;

beforeAll(async () => {
  await useBackend('cpu');
  reference = new Map();
  for (const c of CASES) reference.set(c.name, await runUnit(c));
  const selected = await selectBackend({ device: 'webgpu', webgpu: SOFTWARE_WEBGPU });
  expect(selected.backend).toBe('webgpu');
  expect(selected.fastKernels.kernels).toContain(BATCH_NORM_TRAINING_KERNEL);
});

describe('fused BatchNorm unit kernels on webgpu (llvmpipe) vs the composed ops on cpu', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const expected = reference.get(c.name)!;
    const actual = await expectNoLeak(() => runUnit(c));
    expect(actual.kernels).toContain(BATCH_NORM_TRAINING_KERNEL);
    expect(actual.kernels).toContain(BATCH_NORM_TRAINING_GRAD_KERNEL);
    expectUnitMatches(actual, expected);
  });
});
