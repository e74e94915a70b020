import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { InvalidOptionError, UnsupportedBackendError } from '@vkd/core';
import { afterAll, describe, expect, it } from 'vitest';
import { inspectTensorflowPackage } from '../src/candidates/tensorflow-candidate';
import { describeMissingAdapter, selectBackend } from '../src/index';
import type { GpuFacts } from '../src/index';

// This machine (and CI): pnpm skips tfjs-node(-gpu)'s install script, so the packages exist without their addon,
// and there is no GPU, so Dawn's default (Vulkan) path finds no adapter.
const NATIVE_ADDON_MISSING = 'tfjs-node-gpu: native addon not built (install script skipped); tfjs-node: native addon not built (install script skipped)';

describe('selectBackend', () => {
  it('selects wasm when asked, with its fast kernels', async () => {
    const selected = await selectBackend({ device: 'wasm' });
    expect(selected).toEqual({
      backend: 'wasm',
      tried: [],
      fastKernels: { backend: 'wasm', kernels: ['Conv2D', 'FusedConv2D', 'Conv2DBackpropFilter', 'Conv2DBackpropInput', 'BatchMatMul', 'MaxPoolGrad', 'UnsortedSegmentSum', 'Sum', 'Mean', 'Identity'] },
    });
    expect(tf.getBackend()).toBe('wasm');
  });

  it('selects cpu when asked', async () => {
    const selected = await selectBackend({ device: 'cpu' });
    expect(selected.backend).toBe('cpu');
    expect(selected.fastKernels.kernels).toEqual(['Conv2DBackpropFilter']);
    expect(tf.getBackend()).toBe('cpu');
    const product = tf.matMul(tf.ones([2, 3]), tf.ones([3, 2]));
    expect(Array.from(await product.data())).toEqual([3, 3, 3, 3]);
    product.dispose();
  });

  it('auto falls through tensorflow and webgpu to wasm here, saying why each failed', async () => {
    const selected = await selectBackend();
    expect(selected.backend).toBe('wasm');
    expect(selected.tried.map((attempt) => attempt.backend)).toEqual(['tensorflow', 'webgpu']);
    expect(selected.tried[0]!.reason).toBe(NATIVE_ADDON_MISSING);
    expect(selected.tried[1]!.reason).toMatch(/^no adapter \(.+\)$/);
  });

  it('throws UnsupportedBackendError listing the reason when the requested device cannot work', async () => {
    const error = await selectBackend({ device: 'tensorflow' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsupportedBackendError);
    expect((error as UnsupportedBackendError).requested).toBe('tensorflow');
    expect((error as UnsupportedBackendError).tried).toEqual([{ backend: 'tensorflow', reason: NATIVE_ADDON_MISSING }]);
    expect((error as Error).message).toContain('tensorflow: tfjs-node-gpu: native addon not built');
    expect(tf.getBackend()).toBe('wasm'); // the active backend is left alone
  });

  it('reports webgpu without an adapter as an UnsupportedBackendError', async () => {
    const error = await selectBackend({ device: 'webgpu' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsupportedBackendError);
    expect((error as UnsupportedBackendError).tried[0]!.reason).toMatch(/^no adapter \(.+\)$/);
  });

  it('rejects an unknown device with InvalidOptionError', async () => {
    await expect(selectBackend({ device: 'cuda' as never })).rejects.toThrow(InvalidOptionError);
    await expect(selectBackend({ device: 'cuda' as never })).rejects.toThrow(/'auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'/);
  });
});

describe('describeMissingAdapter', () => {
  const facts: GpuFacts = { platform: 'linux', vulkanLoader: true, vulkanDrivers: ['lvp_icd.x86_64.json'], gpuDevices: false, openGles: false };

  it('names the missing Vulkan loader (the GPU machine before its debs are unpacked)', () => {
    expect(describeMissingAdapter({ ...facts, vulkanLoader: false })).toBe('no adapter (Vulkan loader not found: libvulkan.so.1)');
  });

  it('names missing drivers, missing GPU devices and the OpenGL ES path', () => {
    expect(describeMissingAdapter({ ...facts, vulkanDrivers: [] })).toBe('no adapter (Vulkan loader found, but no Vulkan driver manifest (ICD))');
    expect(describeMissingAdapter(facts)).toBe('no adapter (no GPU device: /dev/dri, /dev/dxg and /dev/nvidia* are absent; Vulkan drivers lvp; Dawn rejects Mesa lavapipe)');
    expect(describeMissingAdapter({ ...facts, gpuDevices: true, vulkanDrivers: ['nvidia_icd.json'] })).toBe('no adapter (Dawn accepted no Vulkan device; drivers: nvidia)');
    expect(describeMissingAdapter({ ...facts, openGles: true })).toMatch(/^no adapter \(OpenGL ES through EGL/);
  });
});

describe('inspectTensorflowPackage', () => {
  const root = mkdtempSync(join(tmpdir(), 'vkd-tfjs-node-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const resolve = (id: string) => {
    if (!id.startsWith('@tensorflow/tfjs-node/')) throw new Error(`Cannot find module '${id}'`);
    return join(root, 'package.json');
  };

  it('tells apart a missing package, a missing addon and a built one', () => {
    writeFileSync(join(root, 'package.json'), '{}');
    expect(inspectTensorflowPackage('@tensorflow/tfjs-node-gpu', resolve)).toBe('not installed (optional dependency)');
    expect(inspectTensorflowPackage('@tensorflow/tfjs-node', resolve)).toBe('native addon not built (install script skipped)');
    mkdirSync(join(root, 'lib', 'napi-v8'), { recursive: true });
    writeFileSync(join(root, 'lib', 'napi-v8', 'tfjs_binding.node'), '');
    expect(inspectTensorflowPackage('@tensorflow/tfjs-node', resolve)).toBeUndefined();
  });
});
