import { InvalidOptionError, ShapeMismatchError } from '@vkd/core';
import { createRankingAccumulator, type RankingResult } from './ranking-accumulator';
import type { Labels, RankingOptions } from './ranking-input';

/** Input of `evaluateRanking`. */
export interface EvaluateRankingInput extends RankingOptions {
  /** [Q, G] row-major distances, smaller = closer. */
  readonly distances: Float32Array | Float64Array;
  readonly queryIdentities: Labels;
  readonly galleryIdentities: Labels;
  readonly queryCameras: Labels;
  readonly galleryCameras: Labels;
}

/**
 * CMC, mAP (non-interpolated and trapezoid) and mINP of a query × gallery distance matrix, in O(G) extra memory.
 * Reference: Zheng et al., "Scalable Person Re-identification: A Benchmark", ICCV 2015 (protocol and AP);
 * Ye et al., "Deep Learning for Person Re-identification: A Survey and Outlook", TPAMI 2021 (mINP).
 * @throws ShapeMismatchError when `distances` is not Q×G; InvalidOptionError when no query is valid.
 */
export function evaluateRanking(input: EvaluateRankingInput): RankingResult {
  const numQueries = input.queryIdentities?.length ?? 0;
  const numGallery = input.galleryIdentities?.length ?? 0;
  if (numQueries === 0) throw new InvalidOptionError('queryIdentities', input.queryIdentities, 'There are no queries.');
  if (input.distances?.length !== numQueries * numGallery) {
    throw new ShapeMismatchError(
      'evaluateRanking.distances',
      `[Q=${numQueries}, G=${numGallery}] = ${numQueries * numGallery} values`,
      `${input.distances?.length} values`,
    );
  }
  const accumulator = createRankingAccumulator(input);
  accumulator.add(input.distances, input.queryIdentities, input.queryCameras);
  return accumulator.result();
}
