import { findBackendFactory } from '@tensorflow/tfjs-core';
import { activate, failed, firstLine } from './candidate';
import type { CandidateResult } from './candidate';

/**
 * Imports and activates the wasm backend (XNNPACK, SIMD, one thread in Node).
 * @param wasmPaths directory prefix (ending in `/`) holding the three `tfjs-backend-wasm*.wasm` files; needed
 *   only when the backend is bundled away from its `dist/` folder (stack-notes §3.1).
 */
export async function tryWasm(wasmPaths?: string): Promise<CandidateResult> {
  let module: typeof import('@tensorflow/tfjs-backend-wasm');
  try {
    module = await import('@tensorflow/tfjs-backend-wasm');
  } catch (error) {
    return failed(`@tensorflow/tfjs-backend-wasm failed to load (${firstLine(error)})`);
  }
  if (wasmPaths !== undefined) module.setWasmPaths(wasmPaths);
  const result = await activate('wasm');
  if (!result.ok && findBackendFactory('wasm') != null) {
    return failed(`${result.reason}; check that the .wasm files are reachable (option wasmPaths)`);
  }
  return result;
}

/** Imports and activates the pure-JavaScript cpu backend (always works; only for tiny workloads). */
export async function tryCpu(): Promise<CandidateResult> {
  try {
    await import('@tensorflow/tfjs-backend-cpu');
  } catch (error) {
    return failed(`@tensorflow/tfjs-backend-cpu failed to load (${firstLine(error)})`);
  }
  return activate('cpu');
}
