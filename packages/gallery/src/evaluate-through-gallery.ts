import { InvalidOptionError, ShapeMismatchError } from '@vkd/core';
import { createRankingAccumulator, type Labels, type RankingResult } from '@vkd/metrics';
import { resolveSearch, type Gallery } from './gallery';
import { writeNormalized } from './normalize-embedding';

/** Queries to evaluate against a gallery index. */
export interface GalleryEvaluationInput {
  /** [Q, D] row-major query embeddings from the gallery's model. */
  readonly queryFeatures: Float32Array;
  readonly queryIdentities: Labels;
  readonly queryCameras: Labels;
  /** Gallery tracklets retrieved per query; the rest count as ranked after them. Default 100. */
  readonly top?: number;
  /** Exact search instead of the approximate index. Default false. */
  readonly exact?: boolean;
  readonly probes?: number;
  readonly refineFactor?: number;
  /** CMC length. Default 50 (at most `top`). */
  readonly maxRank?: number;
  /** Gallery identities removed from every ranking. Default [-1]; tracklets stored without identity count as -1. */
  readonly junkIdentities?: readonly number[];
  /** The Market/MARS/VeRi rule: the query identity's tracklets from the query camera are removed. Default true. */
  readonly excludeSameCamera?: boolean;
}

/** Metrics through the index, and what the retrieval cost. */
export interface GalleryEvaluation {
  readonly result: RankingResult;
  /** Gallery tracklets retrieved per query. */
  readonly top: number;
  readonly queries: number;
  readonly seconds: number;
}

/**
 * Evaluates queries through a gallery index, as a deployment would retrieve: each query takes its `top` nearest
 * gallery tracklets from the index (junk removed by the search predicate, so it uses no slot), and every tracklet
 * not retrieved is ranked after them, pessimistically: the query identity's tracklets last. Rank-k for k ≤ top is
 * exactly what the index returns, and mAP is a lower bound of the mAP of any ranking that begins with the
 * retrieved list (it equals the exact value when `exact` is set and `top` covers every good item). Metrics come from `@vkd/metrics`' accumulator, so protocol,
 * tie-breaking and AP definitions are the same as `evaluateFeatures`'.
 * @throws ShapeMismatchError, InvalidOptionError.
 */
export async function evaluateThroughGallery(
  gallery: Gallery,
  input: GalleryEvaluationInput,
): Promise<GalleryEvaluation> {
  const dimension = gallery.model.dimension;
  const features = input.queryFeatures;
  if (!(features instanceof Float32Array) || features.length % dimension !== 0) {
    throw new ShapeMismatchError('queryFeatures', `[Q, ${dimension}]`, `[${features?.length}]`);
  }
  const queries = features.length / dimension;
  if (input.queryIdentities.length !== queries || input.queryCameras.length !== queries) {
    throw new ShapeMismatchError(
      'queryIdentities/queryCameras',
      `[${queries}]`,
      `[${input.queryIdentities.length}] / [${input.queryCameras.length}]`,
    );
  }
  const top = input.top ?? 100;
  const maxRank = Math.min(input.maxRank ?? 50, top);
  const junkIdentities = input.junkIdentities ?? [-1];
  const excludeSameCamera = input.excludeSameCamera ?? true;
  const labels = await gallery.store.labels();
  const gallerySize = labels.positions.length;
  if (gallerySize === 0) throw new InvalidOptionError('gallery', gallery.directory, 'The gallery is empty.');
  // Gallery order = insertion order (positions ascending); positions may have gaps after deletions.
  const order = Array.from(labels.positions.keys()).sort(
    (a, b) => (labels.positions[a] as number) - (labels.positions[b] as number),
  );
  const indexOfPosition = new Map<number, number>();
  const identities = new Int32Array(gallerySize);
  const cameras = new Int32Array(gallerySize);
  order.forEach((row, index) => {
    indexOfPosition.set(labels.positions[row] as number, index);
    identities[index] = labels.identities[row] as number;
    cameras[index] = labels.cameras[row] as number;
  });
  const accumulator = createRankingAccumulator({
    galleryIdentities: identities,
    galleryCameras: cameras,
    maxRank,
    junkIdentities,
    excludeSameCamera,
  });
  const junkClause =
    junkIdentities.length === 0
      ? 'identity IS NOT NULL'
      : `identity IS NOT NULL AND identity NOT IN (${junkIdentities.join(', ')})`;
  const byIdentity = new Map<number, number[]>();
  identities.forEach((identity, index) => {
    const list = byIdentity.get(identity);
    if (list === undefined) byIdentity.set(identity, [index]);
    else list.push(index);
  });
  const row = new Float32Array(gallerySize);
  const query = new Float32Array(dimension);
  const started = performance.now();
  for (let queryIndex = 0; queryIndex < queries; queryIndex++) {
    const identity = Number(input.queryIdentities[queryIndex]);
    const camera = Number(input.queryCameras[queryIndex]);
    if (!Number.isSafeInteger(identity) || !Number.isSafeInteger(camera)) {
      throw new InvalidOptionError(`query ${queryIndex} labels`, `${identity}/${camera}`, 'Use integer labels.');
    }
    const sameCamera = excludeSameCamera ? ` AND (identity <> ${identity} OR camera <> ${camera})` : '';
    writeNormalized(
      features.subarray(queryIndex * dimension, (queryIndex + 1) * dimension),
      dimension,
      query,
      0,
      `queryFeatures row ${queryIndex}`,
    );
    const hits = await gallery.store.search(
      query,
      resolveSearch(
        { top, exact: input.exact ?? false, probes: input.probes, refineFactor: input.refineFactor },
        `${junkClause}${sameCamera}`,
      ),
    );
    // Not retrieved: after every retrieved item (cosine distances are at most 2), the query identity's last.
    row.fill(3);
    for (const index of byIdentity.get(identity) ?? []) row[index] = Number.POSITIVE_INFINITY;
    for (const hit of hits) {
      const index = indexOfPosition.get(hit.position);
      if (index !== undefined) row[index] = hit.distance;
    }
    accumulator.add(row, [identity], [camera]);
  }
  const seconds = (performance.now() - started) / 1000;
  return { result: accumulator.result(), top, queries, seconds };
}
