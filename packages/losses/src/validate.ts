import type * as tf from '@tensorflow/tfjs-core';
import { InvalidOptionError, ShapeMismatchError, assertShape, formatShape } from '@vkd/core';
import { DtypeMismatchError } from './dtype-mismatch-error';

/** Symbol bindings shared by the checks of one call (`B`, `I`, …), see `assertShape`. */
export type Bindings = Record<string, number>;

function assertTensor(value: unknown, where: string): asserts value is tf.Tensor {
  const candidate = value as { shape?: unknown; dtype?: unknown } | null;
  if (
    typeof candidate !== 'object' ||
    candidate === null ||
    !Array.isArray(candidate.shape) ||
    typeof candidate.dtype !== 'string'
  ) {
    throw new InvalidOptionError(where, value, 'Expected a tf.Tensor.');
  }
}

function assertDtype(tensor: tf.Tensor, where: string, expected: 'float32' | 'int32'): void {
  if (tensor.dtype !== expected) throw new DtypeMismatchError(where, expected, tensor.dtype);
}

/** Checks a float32 matrix `[B, X]` (B ≥ 1) and binds `B` and `columns` in `bindings`. */
export function checkMatrix(value: unknown, where: string, columns: string, bindings: Bindings): tf.Tensor2D {
  assertTensor(value, where);
  assertShape(value.shape, ['B', columns], where, bindings);
  if (value.shape[0] === 0)
    throw new ShapeMismatchError(where, formatShape(['B ≥ 1', columns]), formatShape(value.shape));
  assertDtype(value, where, 'float32');
  return value as tf.Tensor2D;
}

/** Checks int32 identity labels `[B]` (B ≥ 1) against `bindings`. */
export function checkLabels(value: unknown, where: string, bindings: Bindings): tf.Tensor1D {
  assertTensor(value, where);
  assertShape(value.shape, ['B'], where, bindings);
  if (value.shape[0] === 0) throw new ShapeMismatchError(where, formatShape(['B ≥ 1']), formatShape(value.shape));
  assertDtype(value, where, 'int32');
  return value as tf.Tensor1D;
}

/** Rejects anything but a plain options object whose keys are all in `allowed` (catches typos like `temprature`). */
export function checkOptionKeys(options: unknown, where: string, allowed: readonly string[]): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidOptionError(where, options, 'Expected an options object or undefined.');
  }
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) {
      throw new InvalidOptionError(
        `${where}.${key}`,
        (options as Record<string, unknown>)[key],
        `Unknown option; valid options are: ${allowed.join(', ')}.`,
      );
    }
  }
}

/** A finite number in `[min, max)` (or `[min, max]` with `maxInclusive`), `min` exclusive with `minExclusive`. */
export function checkNumber(
  value: unknown,
  option: string,
  range: { min: number; max?: number; minExclusive?: boolean; maxInclusive?: boolean },
): number {
  const { min, max = Infinity, minExclusive = false, maxInclusive = false } = range;
  const lowOk = typeof value === 'number' && (minExclusive ? value > min : value >= min);
  const highOk = typeof value === 'number' && (maxInclusive ? value <= max : value < max);
  if (typeof value !== 'number' || !Number.isFinite(value) || !lowOk || !highOk) {
    const low = `${minExclusive ? '(' : '['}${min}`;
    const high = max === Infinity ? '∞)' : `${max}${maxInclusive ? ']' : ')'}`;
    throw new InvalidOptionError(option, value, `Expected a finite number in ${low}, ${high}.`);
  }
  return value;
}
