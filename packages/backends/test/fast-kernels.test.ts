import { useBackend } from '@vkd/testing';
import { beforeAll, describe, it } from 'vitest';
import { registerFastKernels, unregisterFastKernels } from '../src/index';
import { CONV_CASES, expectGradientsMatch, referenceGradients, type ConvResults } from './conv-cases';

let reference: Map<string, ConvResults>;

beforeAll(async () => {
  await useBackend('cpu');
  unregisterFastKernels('cpu');
  reference = await referenceGradients();
});

describe.each(['wasm', 'cpu'] as const)('fast conv gradients on %s vs the cpu reference kernels', (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
    registerFastKernels(backend);
  });

  it.each(CONV_CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => expectGradientsMatch(c, reference.get(c.name)!));
});
