import { useBackend } from '@vkd/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { SOFTWARE_WEBGPU, selectBackend, unregisterFastKernels } from '../src/index';
import { CONV_CASES, expectGradientsMatch, referenceGradients, type ConvResults } from './conv-cases';

// The CI path for webgpu kernels (tfjs-webgpu's own and our WGSL Conv2DBackpropFilter): Dawn → OpenGL ES → Mesa llvmpipe, no GPU needed. It needs the Mesa EGL packages
// (`.ci/run`: libegl1 libegl-dev libegl-mesa0 libgl1-mesa-dri); without them this file fails, by design, with
// the reason selectBackend gives — webgpu kernels must not go untested silently.
let reference: Map<string, ConvResults>;

beforeAll(async () => {
  await useBackend('cpu');
  unregisterFastKernels('cpu');
  reference = await referenceGradients();
  const selected = await selectBackend({ device: 'webgpu', webgpu: SOFTWARE_WEBGPU });
  expect(selected.backend).toBe('webgpu');
  // The implicit-GEMM WGSL filter gradient; the input gradient picks tfjs-webgpu's tiled program for stride 1.
  expect(selected.fastKernels.kernels).toEqual([
    'Conv2DBackpropFilter',
    'Conv2DBackpropInput',
    'VkdBatchNormTraining',
    'VkdBatchNormTrainingGrad',
    'VkdAdamUpdate',
  ]);
  expect(selected.adapter?.device).toMatch(/^llvmpipe/);
});

describe('webgpu on llvmpipe (OpenGL ES, compatibility) vs the cpu reference kernels', () => {
  it.each(CONV_CASES.map((c) => [c.name, c] as const))('conv gradients: %s', (_name, c) =>
    expectGradientsMatch(c, reference.get(c.name)!),
  );
});

// tfjs-webgpu keeps a tiled implicit-GEMM input-gradient program behind WEBGPU_USE_NAIVE_CONV2D_TRANSPOSE=false
// (default true: the naive one). Our kernel uses it for stride 1; forcing it everywhere checks strided cases too.
describe('webgpu on llvmpipe with the tiled (matmul) input-gradient program for every stride', () => {
  beforeAll(async () => {
    const tf = await import('@tensorflow/tfjs-core');
    tf.env().set('WEBGPU_USE_NAIVE_CONV2D_TRANSPOSE', false);
    return () => tf.env().set('WEBGPU_USE_NAIVE_CONV2D_TRANSPOSE', true);
  });
  it.each(CONV_CASES.map((c) => [c.name, c] as const))('conv gradients: %s', (_name, c) =>
    expectGradientsMatch(c, reference.get(c.name)!),
  );
});
