import { constants } from 'node:buffer';
import { totalmem } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';

/** How much memory the active backend can hold; `undefined` where the backend does not say. */
export interface MemoryLimits {
  readonly backend: string;
  /** All tensors together. */
  readonly totalBytes?: number;
  /** One tensor. */
  readonly largestTensorBytes?: number;
  /** What the limits are, for messages, e.g. `wasm heap 4.0 GiB (wasm32 address space)`. */
  readonly description: string;
}

/**
 * tfjs-backend-wasm 4.22's heap cannot grow past this (`getHeapMax()` of its Emscripten build: 4 GiB less one
 * 64 KiB page, the wasm32 address space); every tensor lives in it. A full heap shows up as
 * `RangeError: Invalid typed array length` from the next allocation.
 */
export const WASM_HEAP_MAX_BYTES = 4294901760;

interface WebGpuDeviceLimits {
  readonly maxBufferSize?: number;
  readonly maxStorageBufferBindingSize?: number;
}

const GIB = 1024 ** 3;
const gib = (bytes: number) => `${(bytes / GIB).toFixed(1)} GiB`;

/**
 * Memory limits of the active tfjs backend: wasm its heap maximum; cpu the machine's RAM and Node's largest
 * typed array; tensorflow (tfjs-node) the machine's RAM; webgpu the device's largest buffer and storage binding
 * (WebGPU does not expose the total memory of the GPU).
 */
export function memoryLimits(backend: string = tf.getBackend()): MemoryLimits {
  switch (backend) {
    case 'wasm':
      return {
        backend,
        totalBytes: WASM_HEAP_MAX_BYTES,
        largestTensorBytes: WASM_HEAP_MAX_BYTES,
        description: `wasm heap ${gib(WASM_HEAP_MAX_BYTES)} (wasm32 address space)`,
      };
    case 'cpu':
      return {
        backend,
        totalBytes: totalmem(),
        largestTensorBytes: constants.MAX_LENGTH,
        description: `RAM ${gib(totalmem())}, largest typed array ${gib(constants.MAX_LENGTH)}`,
      };
    case 'tensorflow':
      return { backend, totalBytes: totalmem(), description: `RAM ${gib(totalmem())}` };
    case 'webgpu': {
      const device = (tf.findBackend('webgpu') as { device?: { limits?: WebGpuDeviceLimits } } | undefined)?.device;
      const limits = [device?.limits?.maxBufferSize, device?.limits?.maxStorageBufferBindingSize].filter(
        (value): value is number => typeof value === 'number',
      );
      if (limits.length === 0) return { backend, description: 'GPU limits unknown' };
      const largest = Math.min(...limits);
      return {
        backend,
        largestTensorBytes: largest,
        description: `GPU buffer limit ${gib(largest)} (maxBufferSize / maxStorageBufferBindingSize; total GPU memory not exposed by WebGPU)`,
      };
    }
    default:
      return { backend, description: `${backend}: limits unknown` };
  }
}
