import {
  BlockDistances,
  checkFeatures,
  QUERY_BLOCK,
  validateMetric,
  validateThreads,
  type DistanceMetric,
} from './pairwise-distances';
import { createRankingAccumulator, type RankingResult } from './ranking-accumulator';
import type { Labels, RankingOptions } from './ranking-input';
import { toLabels } from './ranking-input';

/** Input of `evaluateFeatures`. */
export interface EvaluateFeaturesInput extends RankingOptions {
  /** [Q, D] row-major float32. */
  readonly queryFeatures: Float32Array;
  /** [G, D] row-major float32. */
  readonly galleryFeatures: Float32Array;
  /** Feature dimension D. */
  readonly dim: number;
  readonly queryIdentities: Labels;
  readonly galleryIdentities: Labels;
  readonly queryCameras: Labels;
  readonly galleryCameras: Labels;
  /** Default `'cosine'`. */
  readonly metric?: DistanceMetric;
  /** Threads for the distance kernel (see `pairwiseDistances`). */
  readonly threads?: number;
}

/**
 * Features in, ranking metrics out: distances are computed for blocks of 64 queries and ranked immediately,
 * so memory stays at O(64 · G) whatever the number of queries (no Q × G matrix is ever built).
 * @throws InvalidOptionError, ShapeMismatchError, NonFiniteValueError (NaN features, naming the row).
 */
export function evaluateFeatures(input: EvaluateFeaturesInput): RankingResult {
  const metric = validateMetric(input.metric ?? 'cosine');
  const numQueries = checkFeatures(input.queryFeatures, input.dim, 'queryFeatures');
  const numGallery = checkFeatures(input.galleryFeatures, input.dim, 'galleryFeatures');
  const queryIdentities = toLabels(input.queryIdentities, numQueries, 'queryIdentities');
  const queryCameras = toLabels(input.queryCameras, numQueries, 'queryCameras');
  const accumulator = createRankingAccumulator(input);
  toLabels(input.galleryIdentities, numGallery, 'galleryIdentities');
  const blocks = new BlockDistances(input.galleryFeatures, input.dim, metric, validateThreads(input.threads));
  const buffer = new Float32Array(Math.min(QUERY_BLOCK, numQueries) * numGallery);
  for (let start = 0; start < numQueries; start += QUERY_BLOCK) {
    const end = Math.min(numQueries, start + QUERY_BLOCK);
    const distances = buffer.subarray(0, (end - start) * numGallery);
    blocks.compute(input.queryFeatures.subarray(start * input.dim, end * input.dim), distances);
    accumulator.add(distances, queryIdentities.subarray(start, end), queryCameras.subarray(start, end));
  }
  return accumulator.result();
}
