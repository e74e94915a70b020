import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { InvalidOptionError, UnsupportedBackendError } from '@vkd/core';
import { afterAll, describe, expect, it } from 'vitest';
import { inspectTensorflowPackage } from '../src/candidates/tensorflow-candidate';
import { AUTO_BACKEND_ORDER, describeMissingAdapter, selectBackend } from '../src/index';
import type { Device, GpuFacts } from '../src/index';

// What this machine has, found here without the code under test: whether each tfjs-node package is installed with
// its native addon, and whether any GPU device node exists. The expectations below follow these facts, so the test
// holds on a machine with tfjs-node built or with a GPU too; what needs hardware is checked only where it exists.
const requireHere = createRequire(import.meta.url);
function tensorflowPackageState(name: string): 'absent' | 'no-addon' | 'built' {
  let root: string;
  try {
    root = dirname(requireHere.resolve(`${name}/package.json`));
  } catch {
    return 'absent';
  }
  const lib = join(root, 'lib');
  return existsSync(lib) && readdirSync(lib).some((dir) => existsSync(join(lib, dir, 'tfjs_binding.node')))
    ? 'built'
    : 'no-addon';
}
const TENSORFLOW_STATES = (['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const).map(
  (name) => [name, tensorflowPackageState(name)] as const,
);
const tensorflowBuilt = TENSORFLOW_STATES.some(([, state]) => state === 'built');
/** The reason the tensorflow candidate must give when no addon is built (the message format the README documents). */
const TENSORFLOW_REASON = TENSORFLOW_STATES.map(
  ([name, state]) =>
    `${name.replace('@tensorflow/', '')}: ${state === 'absent' ? 'not installed (optional peer dependency)' : 'native addon not built (install script skipped)'}`,
).join('; ');
const gpuDevices =
  existsSync('/dev/dri') || existsSync('/dev/dxg') || readdirSync('/dev').some((name) => name.startsWith('nvidia'));

describe('selectBackend', () => {
  it('selects wasm when asked, with its fast kernels', async () => {
    const selected = await selectBackend({ device: 'wasm' });
    expect(selected).toEqual({
      backend: 'wasm',
      tried: [],
      fastKernels: {
        backend: 'wasm',
        kernels: [
          'Conv2D',
          'FusedConv2D',
          'Conv2DBackpropFilter',
          'Conv2DBackpropInput',
          'BatchMatMul',
          'MaxPoolGrad',
          'UnsortedSegmentSum',
          'Sum',
          'Mean',
          'Identity',
          'VkdBatchNormTraining',
          'VkdBatchNormTrainingGrad',
          'VkdAdamUpdate',
        ],
      },
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

  it('auto takes the first candidate that works and says why each one before it failed', async () => {
    expect(AUTO_BACKEND_ORDER).toEqual(['tensorflow', 'webgpu', 'wasm', 'cpu']); // the documented order
    const selected = await selectBackend();
    expect(tf.getBackend()).toBe(selected.backend);
    const position = AUTO_BACKEND_ORDER.indexOf(selected.backend);
    expect(selected.tried.map((attempt) => attempt.backend)).toEqual(AUTO_BACKEND_ORDER.slice(0, position));
    // wasm works on every Node 20 machine, so auto never falls below it.
    expect(position).toBeLessThanOrEqual(AUTO_BACKEND_ORDER.indexOf('wasm'));
    if (!tensorflowBuilt) expect(selected.tried[0]).toEqual({ backend: 'tensorflow', reason: TENSORFLOW_REASON });
    else expect(selected.backend).toBe('tensorflow'); // needs tfjs-node with its addon (not on this VM or CI)
    const webgpu = selected.tried.find((attempt) => attempt.backend === 'webgpu');
    if (!gpuDevices) {
      // No GPU device node: Dawn can only find software adapters, which it rejects by default.
      expect(selected.backend).not.toBe('webgpu');
      if (!tensorflowBuilt) expect(webgpu?.reason).toMatch(/^no adapter \(.+\)$/);
    }
    // Each failure is reproducible when the candidate is asked for alone, with the same reason.
    for (const attempt of selected.tried) {
      const error = await selectBackend({ device: attempt.backend as Device }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(UnsupportedBackendError);
      expect((error as UnsupportedBackendError).tried).toEqual([attempt]);
    }
  });

  it.skipIf(tensorflowBuilt)(
    'throws UnsupportedBackendError listing the reason when tensorflow cannot work (no tfjs-node addon)',
    async () => {
      await selectBackend({ device: 'wasm' });
      const error = await selectBackend({ device: 'tensorflow' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnsupportedBackendError);
      expect((error as UnsupportedBackendError).requested).toBe('tensorflow');
      expect((error as UnsupportedBackendError).tried).toEqual([{ backend: 'tensorflow', reason: TENSORFLOW_REASON }]);
      expect((error as Error).message).toContain(`tensorflow: ${TENSORFLOW_REASON.split(';')[0]}`);
      expect(tf.getBackend()).toBe('wasm'); // the active backend is left alone
      // It says exactly what to install or enable, for npm and pnpm.
      expect((error as Error).message).toContain(`npm install @tensorflow/tfjs-node@${tf.version_core}`);
      expect((error as Error).message).toContain(`npm install @tensorflow/tfjs-node-gpu@${tf.version_core}`);
      expect((error as Error).message).toMatch(/pnpm approve-builds.*onlyBuiltDependencies/s);
    },
  );

  it.skipIf(gpuDevices)(
    'reports webgpu without an adapter as an UnsupportedBackendError (no GPU device here)',
    async () => {
      const error = await selectBackend({ device: 'webgpu' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnsupportedBackendError);
      expect((error as UnsupportedBackendError).tried[0]!.reason).toMatch(/^no adapter \(.+\)$/);
    },
  );

  it('rejects an unknown device with InvalidOptionError', async () => {
    await expect(selectBackend({ device: 'cuda' as never })).rejects.toThrow(InvalidOptionError);
    await expect(selectBackend({ device: 'cuda' as never })).rejects.toThrow(
      /'auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'/,
    );
  });
});

describe('describeMissingAdapter', () => {
  const facts: GpuFacts = {
    platform: 'linux',
    vulkanLoader: true,
    vulkanDrivers: ['lvp_icd.x86_64.json'],
    gpuDevices: false,
    openGles: false,
  };

  it('names the missing Vulkan loader (the GPU machine before its debs are unpacked)', () => {
    expect(describeMissingAdapter({ ...facts, vulkanLoader: false })).toBe(
      'no adapter (Vulkan loader not found: libvulkan.so.1)',
    );
  });

  it('names missing drivers, missing GPU devices and the OpenGL ES path', () => {
    expect(describeMissingAdapter({ ...facts, vulkanDrivers: [] })).toBe(
      'no adapter (Vulkan loader found, but no Vulkan driver manifest (ICD))',
    );
    expect(describeMissingAdapter(facts)).toBe(
      'no adapter (no GPU device: /dev/dri, /dev/dxg and /dev/nvidia* are absent; Vulkan drivers lvp; Dawn rejects Mesa lavapipe)',
    );
    expect(describeMissingAdapter({ ...facts, gpuDevices: true, vulkanDrivers: ['nvidia_icd.json'] })).toBe(
      'no adapter (Dawn accepted no Vulkan device; drivers: nvidia)',
    );
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
    expect(inspectTensorflowPackage('@tensorflow/tfjs-node-gpu', resolve)).toBe(
      'not installed (optional peer dependency)',
    );
    expect(inspectTensorflowPackage('@tensorflow/tfjs-node', resolve)).toBe(
      'native addon not built (install script skipped)',
    );
    mkdirSync(join(root, 'lib', 'napi-v8'), { recursive: true });
    writeFileSync(join(root, 'lib', 'napi-v8', 'tfjs_binding.node'), '');
    expect(inspectTensorflowPackage('@tensorflow/tfjs-node', resolve)).toBeUndefined();
  });
});
