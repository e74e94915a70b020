import * as tf from '@tensorflow/tfjs-core';
// Registers the gradient functions of all ops (tfjs-core alone has none under Node).
import '@tensorflow/tfjs-layers';
import {
  convolutionThreads,
  registerFastKernels,
  selectBackend,
  setConvolutionThreads,
  type Device,
} from '@vkd/backends';
import type { RunLog } from './run-log';

/** The backend in use after `activateDevice`, and why other candidates were skipped. */
export interface ActiveDevice {
  readonly requested: string;
  readonly backend: string;
  /** `name: reason` of every candidate that failed before the chosen one. */
  readonly skipped: readonly string[];
}

/**
 * Picks and initialises the compute backend once for the whole command (conventions §3.10), registers the fast
 * training kernels (wasm lacks `Conv2DBackpropFilter` otherwise), and logs the choice and why other candidates failed.
 * @param device `auto | tensorflow | webgpu | wasm | cpu`.
 * @param threads `--threads`: threads of the wasm SIMD kernels (default: all hardware threads); a warning on another
 *   backend, which ignores it.
 * @throws UnsupportedBackendError (from `selectBackend`) listing every attempt.
 */
export async function activateDevice(device: string, log: RunLog, threads?: number): Promise<ActiveDevice> {
  tf.enableProdMode();
  if (threads !== undefined) setConvolutionThreads(threads);
  const { backend, tried } = await selectBackend({ device: device as Device });
  const skipped = tried
    .filter((attempt) => attempt.backend !== backend)
    .map((attempt) => `${attempt.backend}: ${attempt.reason}`);
  const threadNote =
    backend === 'wasm' ? `, ${convolutionThreads()} thread${convolutionThreads() === 1 ? '' : 's'}` : '';
  log.info(
    `backend: ${backend}${threadNote} (requested ${device}${skipped.length ? `; skipped ${skipped.join('; ')}` : ''})`,
  );
  if (threads !== undefined && backend !== 'wasm')
    log.warn(
      `--threads ${threads} sets the threads of the wasm kernels only; the ${backend} backend ignores it (remove it, or use --device wasm).`,
    );
  if (backend === 'wasm' || backend === 'cpu') registerFastKernels(backend);
  return { requested: device, backend, skipped };
}
