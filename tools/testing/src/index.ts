import * as tf from '@tensorflow/tfjs-core';
// Registers the gradient functions of all ops (tfjs-core alone has none under Node).
import '@tensorflow/tfjs-layers';

/** Backends the unit tests run on. */
export type TestBackend = 'cpu' | 'wasm';

/**
 * Activates a backend for the current test file (call in `beforeAll`). Imports the backend lazily and
 * fails loudly if `tf.setBackend` returns false, instead of silently running on another backend.
 */
export async function useBackend(name: TestBackend): Promise<void> {
  tf.enableProdMode();
  if (name === 'cpu') await import('@tensorflow/tfjs-backend-cpu');
  else await import('@tensorflow/tfjs-backend-wasm');
  if (!(await tf.setBackend(name))) throw new Error(`tf.setBackend('${name}') returned false`);
  await tf.ready();
}

/**
 * Runs `fn` and throws if it leaves more tensors alive than it returns. Tensors inside the returned
 * value (a tensor, an array or a plain object of tensors) are counted as owned by the caller and disposed.
 * @returns what `fn` returned (its tensors already disposed: read values inside `fn` if needed).
 */
export async function expectNoLeak<T>(fn: () => T | Promise<T>): Promise<T> {
  const before = tf.memory().numTensors;
  const result = await fn();
  const returned = collectTensors(result);
  const after = tf.memory().numTensors;
  tf.dispose(returned);
  if (after - returned.length !== before) {
    throw new Error(
      `tensor leak: ${after - before - returned.length} tensor(s) left alive (before ${before}, after ${after}, returned ${returned.length})`,
    );
  }
  return result;
}

function collectTensors(value: unknown, found: tf.Tensor[] = []): tf.Tensor[] {
  if (value instanceof tf.Tensor) found.push(value);
  else if (Array.isArray(value)) value.forEach((item) => collectTensors(item, found));
  else if (value !== null && typeof value === 'object' && !ArrayBuffer.isView(value)) {
    Object.values(value).forEach((item) => collectTensors(item, found));
  }
  return found;
}

/** Largest element-wise relative difference `|a−b| / max(|b|, floor)` between two arrays of equal length. */
export function maxRelativeDifference(actual: ArrayLike<number>, expected: ArrayLike<number>, floor = 1e-6): number {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} vs expected ${expected.length}`);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i] as number;
    const b = expected[i] as number;
    worst = Math.max(worst, Math.abs(a - b) / Math.max(Math.abs(b), floor));
  }
  return worst;
}

/**
 * `max|actual − expected| / max|expected|`: the error relative to the array's scale, for gradients and activations
 * whose element-wise ratios blow up where values cancel to near zero.
 */
export function scaledDifference(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} vs expected ${expected.length}`);
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    worst = Math.max(worst, Math.abs((actual[i] as number) - (expected[i] as number)));
    scale = Math.max(scale, Math.abs(expected[i] as number));
  }
  return worst / Math.max(scale, 1e-12);
}
