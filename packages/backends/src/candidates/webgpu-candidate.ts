import { engine, findBackendFactory, registerBackend, removeBackend } from '@tensorflow/tfjs-core';
import { activate, failed, firstLine, importOptional } from './candidate';
import type { AdapterDescription, CandidateResult } from './candidate';
import { describeMissingAdapter, probeGpuFacts } from './webgpu-diagnosis';

/** How Dawn (the `webgpu` package) looks for an adapter. */
export interface WebGpuOptions {
  /** Dawn toggles for `create()`, e.g. `['backend=opengles']`. Default `[]` (Vulkan on Linux). */
  readonly dawnFlags?: readonly string[];
  /** `'compatibility'` is needed for OpenGL ES adapters. Default `'core'`. */
  readonly featureLevel?: 'core' | 'compatibility';
  /** Default `'high-performance'`. */
  readonly powerPreference?: 'high-performance' | 'low-power';
}

/**
 * CPU-only WebGPU for CI correctness tests: Dawn on Mesa llvmpipe through OpenGL ES (stack-notes §7.1).
 * Slow (matMul ≈ 0.7 GFLOP/s), but it runs the real webgpu kernels without a GPU.
 */
export const SOFTWARE_WEBGPU: WebGpuOptions = { dawnFlags: ['backend=opengles'], featureLevel: 'compatibility' };

interface DawnModule {
  create(flags: string[]): { requestAdapter(options?: object): Promise<unknown> };
  globals: Record<string, unknown>;
}

interface Adapter {
  readonly features: ReadonlySet<string>;
  readonly limits: Record<string, number>;
  readonly info?: Partial<AdapterDescription>;
  requestDevice(descriptor: object): Promise<unknown>;
}

/** Makes the Dawn objects visible the way a browser would (tfjs-backend-webgpu reads `navigator.gpu`). */
function installGlobals(dawn: DawnModule, gpu: unknown): void {
  for (const [key, value] of Object.entries(dawn.globals)) {
    if (!(key in globalThis)) Object.defineProperty(globalThis, key, { value, configurable: true, writable: true });
  }
  const navigator = (globalThis as { navigator?: object }).navigator;
  if (navigator === undefined) {
    Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  } else {
    Object.defineProperty(navigator, 'gpu', { value: gpu, configurable: true, writable: true });
  }
}

/**
 * Requests a device like tfjs-backend-webgpu's own factory does, but from the adapter we already found (its
 * factory calls `requestAdapter` without `featureLevel`, which finds no OpenGL ES adapter).
 */
async function createWebGpuBackend(adapter: Adapter): Promise<unknown> {
  const { WebGPUBackend } = await import('@tensorflow/tfjs-backend-webgpu');
  const requiredFeatures = adapter.features.has('timestamp-query') ? ['timestamp-query'] : [];
  const names = [
    'maxComputeWorkgroupStorageSize',
    'maxComputeWorkgroupsPerDimension',
    'maxStorageBufferBindingSize',
    'maxBufferSize',
    'maxComputeWorkgroupSizeX',
    'maxComputeInvocationsPerWorkgroup',
  ];
  const requiredLimits = Object.fromEntries(names.map((name) => [name, adapter.limits[name]]));
  const device = await adapter.requestDevice({ requiredFeatures, requiredLimits });
  return new WebGPUBackend(device as never, adapter.info as never);
}

/**
 * Tries WebGPU through Dawn: finds an adapter with the given options (explaining its absence from the machine's
 * Vulkan/EGL setup), exposes `navigator.gpu`, imports tfjs-backend-webgpu and activates `webgpu`.
 */
export async function tryWebGpu(options: WebGpuOptions = {}): Promise<CandidateResult> {
  if (engine().registry.webgpu !== undefined) return activate('webgpu'); // already initialised by an earlier call
  const flags = [...(options.dawnFlags ?? [])];
  const openGles = flags.some((flag) => /^backend=opengl(es)?$/.test(flag));
  // Linux without any GPU device node: Dawn could only find Mesa lavapipe, which it rejects, after printing native
  // Vulkan warnings on stderr and spending a few hundred ms. Say why without starting it.
  const facts = process.platform === 'linux' && !openGles ? probeGpuFacts(false) : undefined;
  if (facts !== undefined && !facts.gpuDevices) return failed(describeMissingAdapter(facts));
  let dawn: DawnModule;
  try {
    dawn = (await importOptional('webgpu')) as DawnModule;
  } catch (error) {
    return failed(`the Dawn package 'webgpu' failed to load (${firstLine(error)})`);
  }
  // Mesa's EGL needs no display for compute when told so.
  if (openGles && process.env.EGL_PLATFORM === undefined) process.env.EGL_PLATFORM = 'surfaceless';
  const gpu = dawn.create(flags);
  const request = {
    powerPreference: options.powerPreference ?? 'high-performance',
    featureLevel: options.featureLevel ?? 'core',
  };
  let adapter: Adapter | null;
  try {
    adapter = (await gpu.requestAdapter(request)) as Adapter | null;
  } catch (error) {
    return failed(`requestAdapter failed (${firstLine(error)})`);
  }
  if (adapter === null) return failed(describeMissingAdapter(probeGpuFacts(openGles)));
  installGlobals(dawn, gpu);
  try {
    await import('@tensorflow/tfjs-backend-webgpu'); // registers the webgpu kernels
  } catch (error) {
    return failed(`@tensorflow/tfjs-backend-webgpu failed to load (${firstLine(error)})`);
  }
  const found = adapter;
  if (findBackendFactory('webgpu') != null) removeBackend('webgpu');
  registerBackend('webgpu', () => createWebGpuBackend(found) as never, 3);
  const result = await activate('webgpu');
  if (!result.ok) return result;
  const info = found.info ?? {};
  return {
    ok: true,
    adapter: {
      vendor: info.vendor ?? '',
      architecture: info.architecture ?? '',
      device: info.device ?? '',
      description: info.description ?? '',
    },
  };
}
