import { ready } from '@tensorflow/tfjs-core';
import { InvalidOptionError, UnsupportedBackendError } from '@vkd/core';
import type { BackendAttempt } from '@vkd/core';
import type { AdapterDescription, CandidateResult } from './candidates/candidate';
import { tensorflowInstallAdvice, tryTensorflow } from './candidates/tensorflow-candidate';
import { tryCpu, tryWasm } from './candidates/wasm-candidate';
import { tryWebGpu } from './candidates/webgpu-candidate';
import type { WebGpuOptions } from './candidates/webgpu-candidate';
import { registerFastKernels } from './register-fast-kernels';
import type { FastKernelReport } from './register-fast-kernels';

/** Compute devices a user can ask for; `'auto'` tries tensorflow → webgpu → wasm → cpu. */
export type Device = 'auto' | 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';

/** Backends `selectBackend` can activate (tfjs backend names). */
export type BackendName = Exclude<Device, 'auto'>;

/** The order `'auto'` tries backends in: native TensorFlow, GPU, then the CPU backends. */
export const AUTO_BACKEND_ORDER: readonly BackendName[] = ['tensorflow', 'webgpu', 'wasm', 'cpu'];

/** Options of {@link selectBackend}. */
export interface SelectBackendOptions {
  /** What to use. Default `'auto'`. */
  readonly device?: Device;
  /** How Dawn looks for a WebGPU adapter, e.g. `SOFTWARE_WEBGPU` for llvmpipe in CI. */
  readonly webgpu?: WebGpuOptions;
  /** Directory prefix (ending in `/`) of the `tfjs-backend-wasm*.wasm` files, for bundled builds. */
  readonly wasmPaths?: string;
}

/** The backend `selectBackend` activated, and why each candidate before it failed. */
export interface SelectedBackend {
  readonly backend: BackendName;
  /** Candidates that failed, in the order tried, each with a human-readable reason. */
  readonly tried: readonly BackendAttempt[];
  /** The fast training kernels registered for the chosen backend. */
  readonly fastKernels: FastKernelReport;
  /** webgpu only: the adapter Dawn chose. */
  readonly adapter?: AdapterDescription;
}

/** Every value `device` accepts: `'auto'`, then the backends in {@link AUTO_BACKEND_ORDER}. */
export const DEVICES: readonly Device[] = ['auto', ...AUTO_BACKEND_ORDER];

function tryBackend(name: BackendName, options: SelectBackendOptions): Promise<CandidateResult> {
  switch (name) {
    case 'tensorflow':
      return tryTensorflow();
    case 'webgpu':
      return tryWebGpu(options.webgpu);
    case 'wasm':
      return tryWasm(options.wasmPaths);
    case 'cpu':
      return tryCpu();
  }
}

/**
 * Picks and activates the compute backend — the only place in `@vkd/*` that does (libraries never choose).
 * Each candidate is imported lazily inside a try (tfjs-node and tfjs-node-gpu are optional and, under pnpm,
 * usually installed without their native addon), activated with `tf.setBackend` (whose boolean is trusted), then
 * `tf.ready()` is awaited and `registerFastKernels` is called for it.
 * @param options `device` (default `'auto'`), Dawn options, wasm file location.
 * @returns the active backend and the reasons the candidates before it failed, e.g.
 *   `{ backend: 'wasm', tried: [{ backend: 'tensorflow', reason: 'tfjs-node-gpu: native addon not built (install
 *   script skipped); …' }, { backend: 'webgpu', reason: 'no adapter (Vulkan loader not found: libvulkan.so.1)' }] }`.
 * @throws InvalidOptionError for an unknown `device`.
 * @throws UnsupportedBackendError when no candidate works (`tried` lists each reason; for `'tensorflow'` the message
 *   says what to install or enable, `tensorflowInstallAdvice`).
 */
export async function selectBackend(options: SelectBackendOptions = {}): Promise<SelectedBackend> {
  const device = options.device ?? 'auto';
  if (!DEVICES.includes(device)) {
    throw new InvalidOptionError(
      'selectBackend.device',
      device,
      `expected one of ${DEVICES.map((d) => `'${d}'`).join(', ')}`,
    );
  }
  const candidates = device === 'auto' ? AUTO_BACKEND_ORDER : [device];
  const tried: BackendAttempt[] = [];
  for (const backend of candidates) {
    const result = await tryBackend(backend, options);
    if (result.ok) {
      await ready();
      const fastKernels = registerFastKernels(backend);
      return result.adapter === undefined
        ? { backend, tried, fastKernels }
        : { backend, tried, fastKernels, adapter: result.adapter };
    }
    tried.push({ backend, reason: result.reason });
  }
  // Asked for by name: say exactly what to install or enable (auto just moves on).
  throw new UnsupportedBackendError(device, tried, device === 'tensorflow' ? tensorflowInstallAdvice() : undefined);
}
