import { InvalidOptionError, NonFiniteValueError, ShapeMismatchError } from '@vkd/core';
import { GalleryDotProducts } from './gallery-dot-products';

/** Distance between feature vectors. */
export type DistanceMetric = 'cosine' | 'euclidean' | 'squared-euclidean';

/** Options of `pairwiseDistances`. */
export interface DistanceOptions {
  /** `cosine` = 1 − x̂·ŷ (default; zero vectors have distance 1 to everything), `euclidean` = ‖x − y‖, `squared-euclidean` = ‖x − y‖². */
  readonly metric?: DistanceMetric;
  /**
   * Threads for large inputs, the calling thread included (worker threads share the kernel's memory; results are
   * bit-identical for any count). Default: the number of hardware threads.
   */
  readonly threads?: number;
}

const METRICS: readonly DistanceMetric[] = ['cosine', 'euclidean', 'squared-euclidean'];
/** Queries per block: bounds the temporary memory to BLOCK × G floats. */
export const QUERY_BLOCK = 64;

/** Checks the metric name. @throws InvalidOptionError listing the valid metrics. */
export function validateMetric(metric: unknown): DistanceMetric {
  if (!METRICS.includes(metric as DistanceMetric)) {
    throw new InvalidOptionError('metric', metric, `Use one of: ${METRICS.map((name) => `"${name}"`).join(', ')}.`);
  }
  return metric as DistanceMetric;
}

/** Checks the thread count. @throws InvalidOptionError. */
export function validateThreads(threads: unknown): number | undefined {
  if (threads === undefined) return undefined;
  if (!Number.isInteger(threads) || (threads as number) < 1)
    throw new InvalidOptionError('threads', threads, 'Use a positive integer (default: the hardware threads).');
  return threads as number;
}

/**
 * Checks a row-major feature matrix and returns its row count.
 * @throws InvalidOptionError (type, dim), ShapeMismatchError (length), NonFiniteValueError (NaN/∞, naming the row).
 */
export function checkFeatures(features: Float32Array, dim: number, where: string): number {
  if (!(features instanceof Float32Array))
    throw new InvalidOptionError(where, features, 'Use a Float32Array of row-major features.');
  if (!Number.isInteger(dim) || dim < 1)
    throw new InvalidOptionError('dim', dim, 'Use the positive feature dimension D.');
  const rows = features.length / dim;
  if (!Number.isInteger(rows))
    throw new ShapeMismatchError(where, `[n, D=${dim}]`, `${features.length} values (not a multiple of ${dim})`);
  for (let i = 0; i < features.length; i++) {
    if (!Number.isFinite(features[i] as number)) {
      throw new NonFiniteValueError(
        where,
        `row ${Math.floor(i / dim)}, column ${i % dim} is ${features[i]}. Features must be finite.`,
      );
    }
  }
  return rows;
}

/**
 * Computes distances from blocks of query rows to one gallery, reusing the prepared gallery across blocks.
 * Used by `pairwiseDistances`, `evaluateFeatures` and re-ranking.
 */
export class BlockDistances {
  readonly gallerySize: number;
  private readonly dim: number;
  private readonly metric: DistanceMetric;
  private readonly dots: GalleryDotProducts;
  private readonly galleryNorms: Float64Array;

  /** @param gallery [G, D], already checked with `checkFeatures`. */
  constructor(gallery: Float32Array, dim: number, metric: DistanceMetric, threads?: number) {
    this.dim = dim;
    this.metric = metric;
    this.gallerySize = gallery.length / dim;
    this.galleryNorms = squaredNorms(gallery, dim);
    // Cosine: the gallery rows are normalised while they are copied into the kernel's memory.
    this.dots = new GalleryDotProducts(gallery, dim, {
      ...(threads === undefined ? {} : { threads }),
      ...(metric === 'cosine' ? { rowScales: inverseNorms(this.galleryNorms) } : {}),
    });
  }

  /**
   * @param queries [n, D] row-major (n ≤ any size; memory grows to n × G).
   * @param out receives [n, G] distances.
   */
  compute(queries: Float32Array, out: Float32Array): void {
    const dim = this.dim;
    const rows = queries.length / dim;
    const queryNorms = squaredNorms(queries, dim);
    const G = this.gallerySize;
    if (this.metric === 'cosine') {
      this.dots.compute(normalizeRows(queries, dim, queryNorms), out, 1, -1);
      return;
    }
    this.dots.compute(queries, out);
    const squared = this.metric === 'squared-euclidean';
    for (let i = 0; i < rows; i++) {
      const qn = queryNorms[i] as number;
      const base = i * G;
      for (let j = 0; j < G; j++) {
        const value = Math.max(0, qn + (this.galleryNorms[j] as number) - 2 * (out[base + j] as number));
        out[base + j] = squared ? value : Math.sqrt(value);
      }
    }
  }
}

/**
 * Distances between every query and every gallery feature vector, computed in cache-blocked tiles with a
 * WebAssembly SIMD kernel. Euclidean distances use ‖x‖² + ‖y‖² − 2x·y (clamped at 0), as torchreid does.
 * @param query [Q, D] row-major float32. @param gallery [G, D] row-major float32. @param dim D.
 * @returns [Q, G] row-major float32 distances (smaller = closer).
 * @throws InvalidOptionError, ShapeMismatchError, NonFiniteValueError.
 */
export function pairwiseDistances(
  query: Float32Array,
  gallery: Float32Array,
  dim: number,
  options: DistanceOptions = {},
): Float32Array {
  const metric = validateMetric(options.metric ?? 'cosine');
  const threads = validateThreads(options.threads);
  const numQueries = checkFeatures(query, dim, 'query');
  checkFeatures(gallery, dim, 'gallery');
  const blocks = new BlockDistances(gallery, dim, metric, threads);
  const out = new Float32Array(numQueries * blocks.gallerySize);
  for (let start = 0; start < numQueries; start += QUERY_BLOCK) {
    const end = Math.min(numQueries, start + QUERY_BLOCK);
    blocks.compute(
      query.subarray(start * dim, end * dim),
      out.subarray(start * blocks.gallerySize, end * blocks.gallerySize),
    );
  }
  return out;
}

function squaredNorms(features: Float32Array, dim: number): Float64Array {
  const rows = features.length / dim;
  const norms = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let sum = 0;
    for (let d = i * dim; d < (i + 1) * dim; d++) sum += (features[d] as number) * (features[d] as number);
    norms[i] = sum;
  }
  return norms;
}

/** 1 / max(‖row‖, 1e-12) from squared norms, as torch.nn.functional.normalize. */
function inverseNorms(squared: Float64Array): Float64Array {
  return squared.map((value) => 1 / Math.max(Math.sqrt(value), 1e-12));
}

/** Rows divided by max(‖row‖, 1e-12). */
function normalizeRows(features: Float32Array, dim: number, squared: Float64Array): Float32Array {
  const out = new Float32Array(features.length);
  const scales = inverseNorms(squared);
  for (let i = 0; i < squared.length; i++) {
    const scale = scales[i] as number;
    for (let d = i * dim; d < (i + 1) * dim; d++) out[d] = (features[d] as number) * scale;
  }
  return out;
}
