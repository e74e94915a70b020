import { InvalidOptionError, ShapeMismatchError } from '@vkd/core';
import {
  averagePrecision,
  averagePrecisionTrapezoid,
  indexGallery,
  inversePenalty,
  QueryRanker,
} from './query-ranking';
import { toLabels, validateRankingOptions, type Labels, type RankingOptions } from './ranking-input';

/** Ranking metrics over the valid queries. */
export interface RankingResult {
  /** `cmc[k]` = fraction of valid queries with a good item within the top k+1 (length `maxRank`). */
  readonly cmc: Float64Array;
  /** Mean non-interpolated AP (torchreid / fast-reid). */
  readonly mAP: number;
  /** Mean trapezoid AP of the official Market/MARS/VeRi MATLAB script (used by the VKD authors). */
  readonly mAPTrapezoid: number;
  /** Mean inverse negative penalty (fast-reid's mINP). */
  readonly mINP: number;
  /** Number of queries with at least one good gallery item. */
  readonly validQueries: number;
  /** Global indices of the queries without any good gallery item (not counted in any metric). */
  readonly skippedQueries: number[];
  /** Per-query values, indexed by global query index (NaN / 0 for skipped queries). */
  readonly perQuery: {
    readonly averagePrecision: Float64Array;
    readonly averagePrecisionTrapezoid: Float64Array;
    readonly inversePenalty: Float64Array;
    /** 1-based rank of the first good item; 0 for skipped queries. */
    readonly firstHitRank: Int32Array;
    /** Number of good gallery items. */
    readonly numGood: Int32Array;
  };
}

/** Gallery description for `createRankingAccumulator`. */
export interface AccumulatorInput extends RankingOptions {
  readonly galleryIdentities: Labels;
  readonly galleryCameras: Labels;
}

/** Streams query rows in blocks and accumulates ranking metrics in O(G) memory. */
export interface RankingAccumulator {
  /** Gallery size G. */
  readonly gallerySize: number;
  /** Queries added so far; the next block's first query gets this global index. */
  readonly queryCount: number;
  /**
   * Adds a block of query rows.
   * @param distances [n, G] row-major, smaller = closer.
   * @param queryIdentities [n]. @param queryCameras [n].
   * @throws ShapeMismatchError, NonFiniteValueError (NaN distance).
   */
  add(distances: Float32Array | Float64Array, queryIdentities: Labels, queryCameras: Labels): void;
  /**
   * Metrics over every query added.
   * @throws InvalidOptionError when no query had a good gallery item.
   */
  result(): RankingResult;
}

/**
 * Creates a streaming ranking evaluator for one gallery. Each query's good items are the gallery items of its
 * identity from other cameras (all cameras with `excludeSameCamera: false`); junk items (same identity and camera,
 * junk identities, `junkGallery`) are removed; everything else is a negative, including other identities from the
 * query's camera. Ties in distance are broken by gallery index, so results are identical on every machine.
 */
export function createRankingAccumulator(input: AccumulatorInput): RankingAccumulator {
  const options = validateRankingOptions(input);
  const gallerySize = input.galleryIdentities?.length ?? 0;
  if (gallerySize === 0)
    throw new InvalidOptionError('galleryIdentities', input.galleryIdentities, 'The gallery is empty.');
  const gallery = indexGallery(
    toLabels(input.galleryIdentities, gallerySize, 'galleryIdentities'),
    toLabels(input.galleryCameras, gallerySize, 'galleryCameras'),
    options.junkIdentities,
  );
  const ranker = new QueryRanker(gallery, options.excludeSameCamera);
  const firstHitCounts = new Float64Array(options.maxRank);
  const ap: number[] = [];
  const apTrapezoid: number[] = [];
  const inp: number[] = [];
  const firstHit: number[] = [];
  const numGoodPerQuery: number[] = [];
  const skipped: number[] = [];
  let sums = { ap: 0, apTrapezoid: 0, inp: 0 };
  let queryCount = 0;

  return {
    gallerySize,
    get queryCount() {
      return queryCount;
    },
    add(distances, queryIdentities, queryCameras) {
      if (!(distances instanceof Float32Array || distances instanceof Float64Array)) {
        throw new InvalidOptionError('distances', distances, 'Use a Float32Array or Float64Array of n×G distances.');
      }
      const rows = distances.length / gallerySize;
      if (!Number.isInteger(rows)) {
        throw new ShapeMismatchError(
          'distances',
          `[n, G=${gallerySize}] (a multiple of ${gallerySize} values)`,
          `${distances.length} values`,
        );
      }
      const ids = toLabels(queryIdentities, rows, 'queryIdentities');
      const cams = toLabels(queryCameras, rows, 'queryCameras');
      for (let row = 0; row < rows; row++) {
        const queryIndex = queryCount + row;
        const extra = options.junkGallery?.(queryIndex);
        const { numGood, hitRanks } = ranker.rank(
          distances,
          row * gallerySize,
          ids[row] as number,
          cams[row] as number,
          queryIndex,
          extra,
        );
        numGoodPerQuery.push(numGood);
        if (numGood === 0) {
          skipped.push(queryIndex);
          ap.push(Number.NaN);
          apTrapezoid.push(Number.NaN);
          inp.push(Number.NaN);
          firstHit.push(0);
          continue;
        }
        const first = hitRanks[0] as number;
        if (first <= options.maxRank) firstHitCounts[first - 1] = (firstHitCounts[first - 1] as number) + 1;
        const values = {
          ap: averagePrecision(hitRanks),
          apTrapezoid: averagePrecisionTrapezoid(hitRanks),
          inp: inversePenalty(hitRanks),
        };
        ap.push(values.ap);
        apTrapezoid.push(values.apTrapezoid);
        inp.push(values.inp);
        firstHit.push(first);
        sums = {
          ap: sums.ap + values.ap,
          apTrapezoid: sums.apTrapezoid + values.apTrapezoid,
          inp: sums.inp + values.inp,
        };
      }
      queryCount += rows;
    },
    result() {
      const valid = queryCount - skipped.length;
      if (valid === 0) {
        throw new InvalidOptionError(
          'queryIdentities',
          `${queryCount} queries`,
          'No query has a good gallery item (same identity, not junk); check that query and gallery identities overlap and that cameras differ.',
        );
      }
      const cmc = new Float64Array(options.maxRank);
      let running = 0;
      for (let k = 0; k < options.maxRank; k++) {
        running += firstHitCounts[k] as number;
        cmc[k] = running / valid;
      }
      return {
        cmc,
        mAP: sums.ap / valid,
        mAPTrapezoid: sums.apTrapezoid / valid,
        mINP: sums.inp / valid,
        validQueries: valid,
        skippedQueries: [...skipped],
        perQuery: {
          averagePrecision: Float64Array.from(ap),
          averagePrecisionTrapezoid: Float64Array.from(apTrapezoid),
          inversePenalty: Float64Array.from(inp),
          firstHitRank: Int32Array.from(firstHit),
          numGood: Int32Array.from(numGoodPerQuery),
        },
      };
    },
  };
}
