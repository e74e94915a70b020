import { InvalidOptionError, ShapeMismatchError } from '@vkd/core';

/** Integer labels (identities or cameras), one per query or gallery item. */
export type Labels = Int32Array | readonly number[];

/** Options shared by every ranking entry point. */
export interface RankingOptions {
  /** Length of the returned CMC curve. Default 50. */
  readonly maxRank?: number;
  /** Gallery identities that are always removed from the ranking (distractor junk). Default `[-1]`. */
  readonly junkIdentities?: readonly number[];
  /**
   * Remove gallery items of the query's identity seen by the query's camera (the Market/MARS/VeRi rule).
   * With `false` only `junkIdentities` (and `junkGallery`) are removed. Default `true`.
   */
  readonly excludeSameCamera?: boolean;
  /**
   * Extra gallery indices that are junk for one query (e.g. ATRW near-duplicate frames, VeRi `jk_index`).
   * Called once per query with its global index; return `undefined` for none.
   */
  readonly junkGallery?: (queryIndex: number) => ArrayLike<number> | undefined;
}

/** `RankingOptions` with defaults filled in and checked. */
export interface ResolvedRankingOptions {
  readonly maxRank: number;
  readonly junkIdentities: readonly number[];
  readonly excludeSameCamera: boolean;
  readonly junkGallery: ((queryIndex: number) => ArrayLike<number> | undefined) | undefined;
}

/**
 * Longest CMC curve computed: ranks past the gallery size all equal the last one, and each rank costs 8 bytes per
 * curve, so a larger `maxRank` only costs memory (1e9 would need 8 GB).
 */
export const MAX_RANK = 100_000;

/**
 * Fills defaults and range-checks ranking options.
 * @throws InvalidOptionError naming the option.
 */
export function validateRankingOptions(options: RankingOptions): ResolvedRankingOptions {
  const maxRank = options.maxRank ?? 50;
  if (!Number.isInteger(maxRank) || maxRank < 1 || maxRank > MAX_RANK) {
    throw new InvalidOptionError(
      'maxRank',
      maxRank,
      `Use an integer from 1 to ${MAX_RANK} (default 50); ranks past the gallery size add nothing.`,
    );
  }
  const junkIdentities = options.junkIdentities ?? [-1];
  if (!Array.isArray(junkIdentities) || junkIdentities.some((id) => !Number.isInteger(id))) {
    throw new InvalidOptionError('junkIdentities', junkIdentities, 'Use an array of integer identities, e.g. [-1].');
  }
  if (options.junkGallery !== undefined && typeof options.junkGallery !== 'function') {
    throw new InvalidOptionError('junkGallery', options.junkGallery, 'Use a function (queryIndex) => gallery indices.');
  }
  return {
    maxRank,
    junkIdentities,
    excludeSameCamera: options.excludeSameCamera ?? true,
    junkGallery: options.junkGallery,
  };
}

/**
 * Copies labels into an Int32Array after checking length and integrality.
 * @throws ShapeMismatchError when the length is not `expected`; InvalidOptionError for non-integers.
 */
export function toLabels(labels: Labels, expected: number, where: string): Int32Array {
  if (labels === null || typeof labels !== 'object' || typeof labels.length !== 'number') {
    throw new InvalidOptionError(where, labels, 'Use an Int32Array or an array of integers.');
  }
  if (labels.length !== expected) throw new ShapeMismatchError(where, `[${expected}]`, `[${labels.length}]`);
  if (labels instanceof Int32Array) return labels;
  const out = new Int32Array(expected);
  for (let i = 0; i < expected; i++) {
    const value = labels[i] as number;
    if (!Number.isInteger(value) || value < -2147483648 || value > 2147483647) {
      throw new InvalidOptionError(`${where}[${i}]`, value, 'Labels must be 32-bit integers.');
    }
    out[i] = value;
  }
  return out;
}
