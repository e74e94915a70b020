import { NonFiniteValueError, ShapeMismatchError } from '@vkd/core';

/**
 * Copies an embedding into `target` at `offset`, scaled to unit L2 norm.
 * @throws ShapeMismatchError when its length is not D; NonFiniteValueError for NaN/Inf or an all-zero vector.
 */
export function writeNormalized(
  embedding: Float32Array | readonly number[],
  dimension: number,
  target: Float32Array,
  offset: number,
  where: string,
): void {
  if (embedding === null || typeof embedding !== 'object' || typeof embedding.length !== 'number') {
    throw new ShapeMismatchError(where, `[${dimension}]`, String(embedding));
  }
  if (embedding.length !== dimension) throw new ShapeMismatchError(where, `[${dimension}]`, `[${embedding.length}]`);
  let squared = 0;
  for (let index = 0; index < dimension; index++) {
    const value = embedding[index] as number;
    if (!Number.isFinite(value))
      throw new NonFiniteValueError(where, `element ${index} is ${value}; every value must be finite.`);
    squared += value * value;
  }
  if (squared === 0)
    throw new NonFiniteValueError(where, 'the embedding is all zeros, so it has no direction to compare.');
  const scale = 1 / Math.sqrt(squared);
  for (let index = 0; index < dimension; index++) target[offset + index] = (embedding[index] as number) * scale;
}
