import { findBackendFactory, getBackend, getKernel, registerKernel, unregisterKernel } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs-core';
import {
  ADAM_UPDATE_KERNEL,
  BATCH_NORM_TRAINING_GRAD_KERNEL,
  BATCH_NORM_TRAINING_KERNEL,
  InvalidOptionError,
} from '@vkd/core';
import { createConv2DBackpropFilterKernel } from './kernels/conv2d-backprop-filter';
import { createConv2DBackpropInputKernel } from './kernels/conv2d-backprop-input';
import { createLeadingAxesReductionKernel } from './kernels/leading-axes-reduction';
import { createSharedIdentityKernel } from './kernels/shared-identity';
import { createUnsortedSegmentSumKernel } from './kernels/unsorted-segment-sum';
import { createWasmAdamUpdateKernel } from './kernels/wasm-adam-update';
import { createWasmBatchNormTrainingKernel } from './kernels/wasm-batch-norm-training';
import { createWasmBatchNormTrainingGradKernel } from './kernels/wasm-batch-norm-training-grad';
import { wasmNormKernelsSupported } from './kernels/wasm-norm-engine';
import {
  createWasmBatchMatMulKernel,
  createWasmConv2DBackpropFilterKernel,
  createWasmConv2DBackpropInputKernel,
  createWasmConv2DKernel,
  createWasmMaxPoolGradKernel,
} from './kernels/wasm-conv2d';
import { createWebGpuAdamUpdateKernel } from './kernels/webgpu-adam-update';
import { createWebGpuBatchNormTrainingKernel } from './kernels/webgpu-batch-norm-training';
import { createWebGpuBatchNormTrainingGradKernel } from './kernels/webgpu-batch-norm-training-grad';
import { createWebGpuConv2DBackpropFilterKernel } from './kernels/webgpu-conv2d-backprop-filter';
import { createWebGpuConv2DBackpropInputKernel } from './kernels/webgpu-conv2d-backprop-input';

/** Marks our kernel functions, so a second registration (even from another copy of this package) is a no-op. */
const FAST_KERNEL = Symbol.for('@vkd/backends/fast-kernel');
/** The kernel config a fast kernel replaced (undefined when the backend had none), for `unregisterFastKernels`. */
const REPLACED = Symbol.for('@vkd/backends/replaced-kernel');

interface FastKernelSpec {
  readonly kernelName: string;
  /** `original` is the kernel being replaced, if the backend has one. */
  readonly create: (backendName: string, original: KernelFunc | undefined) => KernelFunc;
  /** A fused kernel of @vkd/core's fused-kernels (no tfjs counterpart; callers compose the ops without it). */
  readonly fused?: true;
  /** Whether this runtime can run the kernel (default: always). */
  readonly supported?: () => boolean;
}

/** A fused kernel (a name of @vkd/core's fused-kernels), registered only where `supported`. */
function fused(
  kernelName: string,
  create: (kernelName: string) => KernelFunc,
  supported?: () => boolean,
): FastKernelSpec {
  return { kernelName, create: () => create(kernelName), fused: true, ...(supported ? { supported } : {}) };
}

const conv2DBackpropFilter: FastKernelSpec = {
  kernelName: 'Conv2DBackpropFilter',
  create: (backendName) => createConv2DBackpropFilterKernel(backendName),
};

/** A kernel that replaces one the backend has, falling back to it for the cases it does not handle. */
function replacing(
  kernelName: string,
  create: (backendName: string, original: KernelFunc) => KernelFunc,
): FastKernelSpec {
  return {
    kernelName,
    create: (backendName, original) => {
      if (original === undefined) throw new Error(`@vkd/backends: ${backendName} has no ${kernelName} to fall back to`);
      return create(backendName, original);
    },
  };
}

/** Which kernels each backend gets. tensorflow (native TF) already has fast training kernels. */
const FAST_KERNELS: Readonly<Record<string, readonly FastKernelSpec[]>> = {
  wasm: [
    replacing('Conv2D', (_backendName, original) => createWasmConv2DKernel(original)),
    replacing('FusedConv2D', (_backendName, original) => createWasmConv2DKernel(original)),
    {
      kernelName: 'Conv2DBackpropFilter',
      create: (backendName) => createWasmConv2DBackpropFilterKernel(createConv2DBackpropFilterKernel(backendName)),
    },
    replacing('Conv2DBackpropInput', (backendName, original) =>
      createWasmConv2DBackpropInputKernel(createConv2DBackpropInputKernel(backendName, original)),
    ),
    replacing('BatchMatMul', (_backendName, original) => createWasmBatchMatMulKernel(original)),
    replacing('MaxPoolGrad', (_backendName, original) => createWasmMaxPoolGradKernel(original)),
    { kernelName: 'UnsortedSegmentSum', create: (backendName) => createUnsortedSegmentSumKernel(backendName) },
    replacing('Sum', (backendName, original) => createLeadingAxesReductionKernel(backendName, 'sum', original)),
    replacing('Mean', (backendName, original) => createLeadingAxesReductionKernel(backendName, 'mean', original)),
    replacing('Identity', (_backendName, original) => createSharedIdentityKernel(original)),
    fused(BATCH_NORM_TRAINING_KERNEL, createWasmBatchNormTrainingKernel, wasmNormKernelsSupported),
    fused(BATCH_NORM_TRAINING_GRAD_KERNEL, createWasmBatchNormTrainingGradKernel, wasmNormKernelsSupported),
    fused(ADAM_UPDATE_KERNEL, createWasmAdamUpdateKernel, wasmNormKernelsSupported),
  ],
  cpu: [conv2DBackpropFilter],
  webgpu: [
    replacing('Conv2DBackpropFilter', (_backendName, original) => createWebGpuConv2DBackpropFilterKernel(original)),
    replacing('Conv2DBackpropInput', (_backendName, original) => createWebGpuConv2DBackpropInputKernel(original)),
    fused(BATCH_NORM_TRAINING_KERNEL, createWebGpuBatchNormTrainingKernel),
    fused(BATCH_NORM_TRAINING_GRAD_KERNEL, createWebGpuBatchNormTrainingGradKernel),
    fused(ADAM_UPDATE_KERNEL, createWebGpuAdamUpdateKernel),
  ],
};

/** Options of {@link registerFastKernels} and {@link unregisterFastKernels}. */
export interface FastKernelOptions {
  /**
   * Include the fused training kernels (BatchNorm forward/backward with residual add and ReLU, Adam; names in
   * @vkd/core's fused-kernels). Default true. `unregisterFastKernels(backend, { fused: 'only' })` removes just those,
   * so that the models compose the same arithmetic from tfjs ops (to measure old and new in one process).
   */
  fused?: boolean | 'only';
}

/** The specs an options object selects. */
function selected(specs: readonly FastKernelSpec[], options: FastKernelOptions): FastKernelSpec[] {
  const mode = options.fused ?? true;
  if (mode !== true && mode !== false && mode !== 'only') {
    throw new InvalidOptionError('fused', mode, "true, false or 'only'");
  }
  return specs.filter((spec) => (mode === 'only' ? spec.fused === true : mode || spec.fused !== true));
}

/** What `registerFastKernels` did. */
export interface FastKernelReport {
  /** The backend the kernels are registered for. */
  readonly backend: string;
  /** Kernels of ours now active on that backend (also those registered by an earlier call). */
  readonly kernels: readonly string[];
}

function isFast(config: KernelConfig | undefined): boolean {
  return config !== undefined && (config.kernelFunc as unknown as Record<symbol, unknown>)[FAST_KERNEL] === true;
}

function resolveBackendName(backend: string | undefined, caller: string): string {
  const name = backend ?? getBackend();
  if (typeof name !== 'string' || name === '') {
    throw new InvalidOptionError(
      `${caller}.backend`,
      backend,
      'no backend is active: pass a backend name or call selectBackend() first',
    );
  }
  if (findBackendFactory(name) == null) {
    throw new InvalidOptionError(
      `${caller}.backend`,
      name,
      `no backend named '${name}' is registered: import it (or call selectBackend()) first`,
    );
  }
  return name;
}

/**
 * Registers the fast training kernels for a backend (default: the active one):
 * - `wasm`: `Conv2D`, `FusedConv2D` (without bias/activation), `Conv2DBackpropInput` and `Conv2DBackpropFilter`
 *   (missing on wasm) on our WebAssembly SIMD kernels, split over worker threads (see `setConvolutionThreads`), for
 *   NHWC float32 convolutions whose output channels (input channels for the input gradient) are a multiple of 8;
 *   other convolutions use XNNPACK's forward `Conv2D` (gradients composed from it); `BatchMatMul` of one row by
 *   one matrix (BatchNorm's column sums) and `MaxPoolGrad` (to the first maximum of each window, as PyTorch) on the
 *   same engine; `UnsortedSegmentSum` (the gradient of `tf.gather`, also missing); `Sum` and `Mean`
 *   over leading axes (BatchNorm statistics) as one matrix product instead of transpose + reduce; `Identity`
 *   sharing data instead of copying (the engine clones every tensor it saves for the backward pass);
 * - `cpu`: `Conv2DBackpropFilter` composed from the forward `Conv2D` (~80× faster than the built-in loop);
 * - `webgpu`: `Conv2DBackpropFilter` as an implicit-GEMM, split-K WGSL program (the built-in one gives each
 *   filter element one thread that loops over every output position); `Conv2DBackpropInput` on tfjs-webgpu's tiled
 *   implicit-GEMM program for stride 1 (its naive one, the default, for strided convolutions);
 * - fused training kernels (wasm: SIMD on the backend's heap, one thread; webgpu: WGSL): `VkdBatchNormTraining`
 *   (batch statistics, normalisation, residual add, ReLU), `VkdBatchNormTrainingGrad` and `VkdAdamUpdate`, called by
 *   @vkd/models and @vkd/trainer when registered (contracts in @vkd/core's fused-kernels); `options.fused: false`
 *   leaves them out;
 * - other backends: nothing (their kernels are already complete).
 * Safe to call any number of times; kernels already registered are kept. Call it before or after the backend is
 * initialised. Results match the cpu backend's reference kernels within 1e-4 relative.
 * @param backend backend name, e.g. `'wasm'`; default `tf.getBackend()`.
 * @throws InvalidOptionError when no backend is active, `backend` is not registered or `options.fused` is invalid.
 */
export function registerFastKernels(backend?: string, options: FastKernelOptions = {}): FastKernelReport {
  const backendName = resolveBackendName(backend, 'registerFastKernels');
  const specs = selected(FAST_KERNELS[backendName] ?? [], options).filter((spec) => spec.supported?.() ?? true);
  for (const spec of specs) {
    const existing = getKernel(spec.kernelName, backendName);
    if (isFast(existing)) continue;
    const kernelFunc = spec.create(backendName, existing?.kernelFunc);
    Object.defineProperty(kernelFunc, FAST_KERNEL, { value: true });
    Object.defineProperty(kernelFunc, REPLACED, { value: existing });
    if (existing !== undefined) unregisterKernel(spec.kernelName, backendName);
    // Keep the original's setupFunc: the wasm fallback needs its cwrapped function (stack-notes §4.2).
    registerKernel({ ...existing, kernelName: spec.kernelName, backendName, kernelFunc });
  }
  return { backend: backendName, kernels: specs.map((spec) => spec.kernelName) };
}

/**
 * Removes the kernels `registerFastKernels` added to a backend and restores the ones they replaced
 * (for comparisons against the reference kernels and for tests). Safe to call when none are registered.
 * @returns the kernels that were removed.
 * @throws InvalidOptionError as `registerFastKernels`.
 */
export function unregisterFastKernels(backend?: string, options: FastKernelOptions = {}): FastKernelReport {
  const backendName = resolveBackendName(backend, 'unregisterFastKernels');
  const removed: string[] = [];
  for (const spec of selected(FAST_KERNELS[backendName] ?? [], { fused: options.fused ?? true })) {
    const existing = getKernel(spec.kernelName, backendName);
    if (existing === undefined || !isFast(existing)) continue;
    const replaced = (existing.kernelFunc as unknown as Record<symbol, KernelConfig | undefined>)[REPLACED];
    unregisterKernel(spec.kernelName, backendName);
    if (replaced !== undefined) registerKernel(replaced);
    removed.push(spec.kernelName);
  }
  return { backend: backendName, kernels: removed };
}
