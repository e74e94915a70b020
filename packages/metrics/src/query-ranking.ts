import { NonFiniteValueError } from '@vkd/core';

/** Gallery-side data prepared once and shared by every query. */
export interface GalleryIndex {
  readonly size: number;
  readonly identities: Int32Array;
  readonly cameras: Int32Array;
  /** 1 where the gallery item's identity is a junk identity (always removed). */
  readonly junk: Uint8Array;
  /** Gallery indices of each non-junk identity, ascending. */
  readonly byIdentity: ReadonlyMap<number, Int32Array>;
}

/** Builds the per-identity gallery lists used to find a query's positives without scanning the gallery. */
export function indexGallery(
  identities: Int32Array,
  cameras: Int32Array,
  junkIdentities: readonly number[],
): GalleryIndex {
  const junkSet = new Set(junkIdentities);
  const junk = new Uint8Array(identities.length);
  const lists = new Map<number, number[]>();
  for (let j = 0; j < identities.length; j++) {
    const id = identities[j] as number;
    if (junkSet.has(id)) {
      junk[j] = 1;
      continue;
    }
    let list = lists.get(id);
    if (list === undefined) {
      list = [];
      lists.set(id, list);
    }
    list.push(j);
  }
  const byIdentity = new Map<number, Int32Array>();
  for (const [id, list] of lists) byIdentity.set(id, Int32Array.from(list));
  return { size: identities.length, identities, cameras, junk, byIdentity };
}

/**
 * Where one query's true matches land in its ranked gallery: the 1-based ranks of its good items after junk
 * removal, ascending. Ordering is by (distance, gallery index), so ties are broken by gallery index and the
 * result is the same on every machine.
 */
export interface QueryRanking {
  /** Number of good gallery items (same identity, not junk). 0 means the query is skipped. */
  numGood: number;
  /** `hitRanks[i]` = 1-based kept rank of the (i+1)-th good item; length `numGood` (view into a scratch buffer). */
  hitRanks: Int32Array;
}

/**
 * Ranks one query in O(G + P·log P) time and O(G) memory without sorting the gallery: only the good items
 * are sorted, and every negative closer than the farthest good item is placed among them by binary search.
 */
export class QueryRanker {
  private readonly gallery: GalleryIndex;
  private readonly excludeSameCamera: boolean;
  private goodDistances = new Float64Array(16);
  private goodIndices = new Int32Array(16);
  private negativesBefore = new Int32Array(17);
  private hitRanks = new Int32Array(16);
  private readonly extraJunk: Uint8Array;

  constructor(gallery: GalleryIndex, excludeSameCamera: boolean) {
    this.gallery = gallery;
    this.excludeSameCamera = excludeSameCamera;
    this.extraJunk = new Uint8Array(gallery.size);
  }

  /**
   * @param distances row-major distances; the query's row starts at `offset` and has `gallery.size` entries.
   * @param queryIndex global query index, used in error messages.
   * @param extraJunk gallery indices that are junk for this query only.
   * @throws NonFiniteValueError when the row holds NaN.
   */
  rank(
    distances: Float32Array | Float64Array,
    offset: number,
    queryIdentity: number,
    queryCamera: number,
    queryIndex: number,
    extraJunk?: ArrayLike<number>,
  ): QueryRanking {
    const { size, identities, cameras, junk, byIdentity } = this.gallery;
    const marks = this.extraJunk;
    const hasExtra = extraJunk !== undefined && extraJunk.length > 0;
    if (hasExtra) for (let k = 0; k < extraJunk.length; k++) marks[extraJunk[k] as number] = 1;
    try {
      const candidates = byIdentity.get(queryIdentity);
      let numGood = 0;
      if (candidates !== undefined) {
        this.reserve(candidates.length);
        for (let k = 0; k < candidates.length; k++) {
          const j = candidates[k] as number;
          if (this.excludeSameCamera && cameras[j] === queryCamera) continue;
          if (hasExtra && marks[j] === 1) continue;
          const value = distances[offset + j] as number;
          // biome-ignore lint/suspicious/noSelfCompare: the NaN test without a call, in the ranking's inner loop
          if (value !== value) throw nanError(queryIndex, j);
          // Insertion sort by (distance, index): candidates arrive in index order, so equal distances stay stable.
          let p = numGood++;
          while (p > 0 && (this.goodDistances[p - 1] as number) > value) {
            this.goodDistances[p] = this.goodDistances[p - 1] as number;
            this.goodIndices[p] = this.goodIndices[p - 1] as number;
            p--;
          }
          this.goodDistances[p] = value;
          this.goodIndices[p] = j;
        }
      }
      if (numGood === 0) return { numGood: 0, hitRanks: this.hitRanks.subarray(0, 0) };

      const sortedDistances = this.goodDistances;
      const sortedIndices = this.goodIndices;
      const last = numGood - 1;
      const farthest = sortedDistances[last] as number;
      const farthestIndex = sortedIndices[last] as number;
      const before = this.negativesBefore;
      before.fill(0, 0, numGood + 1);
      for (let j = 0; j < size; j++) {
        const value = distances[offset + j] as number;
        if (value > farthest) continue; // the common case: behind every good item
        // biome-ignore lint/suspicious/noSelfCompare: the NaN test without a call, in the ranking's inner loop
        if (value !== value) throw nanError(queryIndex, j);
        if (junk[j] === 1 || identities[j] === queryIdentity) continue; // junk, or good/same-camera junk
        if (hasExtra && marks[j] === 1) continue;
        if (value === farthest && j > farthestIndex) continue;
        // Number of good items ordered before (value, j): lower bound by binary search.
        let low = 0;
        let high = numGood;
        while (low < high) {
          const mid = (low + high) >>> 1;
          const d = sortedDistances[mid] as number;
          if (d < value || (d === value && (sortedIndices[mid] as number) < j)) low = mid + 1;
          else high = mid;
        }
        before[low] = (before[low] as number) + 1;
      }
      const ranks = this.hitRanks;
      let negatives = 0;
      for (let i = 0; i < numGood; i++) {
        negatives += before[i] as number;
        ranks[i] = i + 1 + negatives;
      }
      return { numGood, hitRanks: ranks.subarray(0, numGood) };
    } finally {
      if (hasExtra) for (let k = 0; k < extraJunk.length; k++) marks[extraJunk[k] as number] = 0;
    }
  }

  private reserve(count: number): void {
    if (this.goodDistances.length >= count) return;
    const capacity = Math.max(count, this.goodDistances.length * 2);
    this.goodDistances = new Float64Array(capacity);
    this.goodIndices = new Int32Array(capacity);
    this.negativesBefore = new Int32Array(capacity + 1);
    this.hitRanks = new Int32Array(capacity);
  }
}

function nanError(queryIndex: number, galleryIndex: number): NonFiniteValueError {
  return new NonFiniteValueError(
    'evaluateRanking.distances',
    `distance of query ${queryIndex} to gallery item ${galleryIndex} is NaN. Check the features for NaN values.`,
  );
}

/** Non-interpolated average precision (torchreid / fast-reid): mean of precision at each hit. */
export function averagePrecision(hitRanks: Int32Array): number {
  let sum = 0;
  for (let i = 0; i < hitRanks.length; i++) sum += (i + 1) / (hitRanks[i] as number);
  return sum / hitRanks.length;
}

/**
 * Trapezoid average precision of the official Market-1501 / MARS / VeRi MATLAB `compute_AP`: the i-th hit at
 * rank r contributes ((i−1)/(r−1) + i/r) / 2 / numGood, with (i−1)/(r−1) = 1 when r = 1.
 */
export function averagePrecisionTrapezoid(hitRanks: Int32Array): number {
  let sum = 0;
  for (let i = 0; i < hitRanks.length; i++) {
    const rank = hitRanks[i] as number;
    const previousPrecision = rank === 1 ? 1 : i / (rank - 1);
    sum += (previousPrecision + (i + 1) / rank) / 2;
  }
  return sum / hitRanks.length;
}

/** Inverse negative penalty (fast-reid, Ye et al. 2021): numGood / rank of the last hit. */
export function inversePenalty(hitRanks: Int32Array): number {
  return hitRanks.length / (hitRanks[hitRanks.length - 1] as number);
}
