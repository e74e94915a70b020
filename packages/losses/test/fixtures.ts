import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';

/** A tensor as the PyTorch script writes it. */
export interface EncodedTensor {
  shape: number[];
  data: number[];
}

/** One fixture of `tools/fixtures/losses/make_fixtures.py`. */
export interface LossFixture {
  name: string;
  description: string;
  options: Record<string, number | string>;
  inputs: Record<string, EncodedTensor>;
  expected: { value: number; gradients: Record<string, EncodedTensor>; terms?: Record<string, number> };
}

const fixtureDirectory = fileURLToPath(new URL('../../../tools/fixtures/losses/', import.meta.url));

export function loadFixture(name: string): LossFixture {
  return JSON.parse(readFileSync(`${fixtureDirectory}${name}.json`, 'utf8')) as LossFixture;
}

/** Float inputs as float32 tensors, `labels` as int32 (caller disposes). */
export function fixtureTensors(fixture: LossFixture): Record<string, tf.Tensor> {
  return Object.fromEntries(
    Object.entries(fixture.inputs).map(([key, encoded]) => [
      key,
      tf.tensor(encoded.data, encoded.shape, key === 'labels' ? 'int32' : 'float32'),
    ]),
  );
}

/**
 * Largest violation ratio of `|a − b| ≤ relative·|b| + absoluteScale·max|b|` (≤ 1 passes), the `allclose` rule
 * used for gradients: every entry within `relative` of its reference, except that an entry far below the tensor's
 * largest one is allowed `absoluteScale·max|b|`, the unavoidable float32 rounding of a sum whose terms are that
 * large (1e-6·max ≈ 10 float32 ulps at the tensor's scale).
 */
export function allCloseRatio(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  relative: number,
  absoluteScale: number,
): number {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} vs expected ${expected.length}`);
  let scale = 0;
  for (let index = 0; index < expected.length; index++) scale = Math.max(scale, Math.abs(expected[index]!));
  let worst = 0;
  for (let index = 0; index < actual.length; index++) {
    const allowed = relative * Math.abs(expected[index]!) + absoluteScale * scale;
    const error = Math.abs(actual[index]! - expected[index]!);
    worst = Math.max(worst, allowed === 0 ? (error === 0 ? 0 : Infinity) : error / allowed);
  }
  return worst;
}
