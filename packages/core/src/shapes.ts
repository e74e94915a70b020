import { ShapeMismatchError } from './errors/shape-mismatch-error';

/** One expected dimension: an exact size, a symbol that must agree wherever it recurs (`'B'`), or `null` (any). */
export type DimensionSpec = number | string | null;

/** Formats a shape as `[2, 3]` or a spec as `[B, D]`. */
export function formatShape(shape: readonly DimensionSpec[]): string {
  return `[${shape.map((dim) => (dim === null ? '?' : String(dim))).join(', ')}]`;
}

/**
 * Checks the rank and dimensions of a shape against a spec such as `['B', 'D']`.
 * Symbols bind to the first size seen; pass the same `bindings` object to several calls to make
 * shapes agree across arguments (e.g. logits `[B, I]` and labels `[B]`).
 * @returns the bindings, extended with the symbols bound here.
 * @throws ShapeMismatchError naming `where`, the expected spec (with bound sizes) and the actual shape.
 */
export function assertShape(
  actual: readonly number[],
  expected: readonly DimensionSpec[],
  where: string,
  bindings: Record<string, number> = {},
): Record<string, number> {
  const describeExpected = () =>
    formatShape(expected.map((dim) => (typeof dim === 'string' && dim in bindings ? `${dim}=${bindings[dim]}` : dim)));
  if (actual.length !== expected.length) throw new ShapeMismatchError(where, describeExpected(), formatShape(actual));
  expected.forEach((dim, axis) => {
    const size = actual[axis] as number;
    if (typeof dim === 'number' && dim !== size)
      throw new ShapeMismatchError(where, describeExpected(), formatShape(actual));
    if (typeof dim === 'string') {
      const bound = bindings[dim];
      if (bound !== undefined && bound !== size)
        throw new ShapeMismatchError(where, describeExpected(), formatShape(actual));
      bindings[dim] = size;
    }
  });
  return bindings;
}
