import type { RankingResult } from '@vkd/metrics';

/** Per-camera retrieval accuracy (queries grouped by their camera). */
export interface CameraSummary {
  camera: number;
  queries: number;
  rank1: number;
  mAP: number;
}

/** JSON-friendly metrics of one protocol, as `metrics.json` stores them. */
export interface RankingSummary {
  rank1: number;
  rank5: number;
  rank10: number;
  /** Non-interpolated mAP (torchreid / fast-reid). */
  mAP: number;
  /** Trapezoid mAP of the official MATLAB script, used by the VKD authors. */
  mAPTrapezoid: number;
  mINP: number;
  /** `cmc[k]` = hit within rank k+1. */
  cmc: number[];
  validQueries: number;
  skippedQueries: number;
  perCamera: CameraSummary[];
  /**
   * Per query type, when queries carry `metadata.queryType` (ATRW: `sing` = single-camera, `multi` = cross-camera):
   * means over that type's valid queries.
   */
  byQueryType?: Record<string, GroupSummary>;
}

/** Metrics of one group of queries. */
export interface GroupSummary {
  queries: number;
  rank1: number;
  rank5: number;
  mAP: number;
  mAPTrapezoid: number;
}

/**
 * Turns a `RankingResult` into plain numbers, plus per-query-camera rank-1 and mAP and, with `queryTypes`, metrics
 * per query type.
 */
export function summarizeRanking(
  result: RankingResult,
  queryCameras: Int32Array,
  queryTypes?: readonly (string | undefined)[],
): RankingSummary {
  const at = (rank: number) => result.cmc[Math.min(rank, result.cmc.length) - 1] ?? Number.NaN;
  const skipped = new Set(result.skippedQueries);
  const cameras = new Map<number, { queries: number; hits: number; ap: number }>();
  queryCameras.forEach((camera, query) => {
    if (skipped.has(query)) return;
    const entry = cameras.get(camera) ?? { queries: 0, hits: 0, ap: 0 };
    entry.queries += 1;
    if (result.perQuery.firstHitRank[query] === 1) entry.hits += 1;
    entry.ap += result.perQuery.averagePrecision[query] as number;
    cameras.set(camera, entry);
  });
  const byQueryType = queryTypes?.some((type) => type !== undefined)
    ? summarizeGroups(result, queryTypes, skipped)
    : undefined;
  return {
    ...(byQueryType ? { byQueryType } : {}),
    rank1: at(1),
    rank5: at(5),
    rank10: at(10),
    mAP: result.mAP,
    mAPTrapezoid: result.mAPTrapezoid,
    mINP: result.mINP,
    cmc: Array.from(result.cmc),
    validQueries: result.validQueries,
    skippedQueries: result.skippedQueries.length,
    perCamera: [...cameras.entries()]
      .sort(([a], [b]) => a - b)
      .map(([camera, entry]) => ({
        camera,
        queries: entry.queries,
        rank1: entry.hits / entry.queries,
        mAP: entry.ap / entry.queries,
      })),
  };
}

function summarizeGroups(
  result: RankingResult,
  types: readonly (string | undefined)[],
  skipped: Set<number>,
): Record<string, GroupSummary> {
  const groups = new Map<string, { queries: number; hits1: number; hits5: number; ap: number; trapezoid: number }>();
  types.forEach((type, query) => {
    if (type === undefined || skipped.has(query)) return;
    const group = groups.get(type) ?? { queries: 0, hits1: 0, hits5: 0, ap: 0, trapezoid: 0 };
    const rank = result.perQuery.firstHitRank[query] as number;
    group.queries += 1;
    if (rank === 1) group.hits1 += 1;
    if (rank >= 1 && rank <= 5) group.hits5 += 1;
    group.ap += result.perQuery.averagePrecision[query] as number;
    group.trapezoid += result.perQuery.averagePrecisionTrapezoid[query] as number;
    groups.set(type, group);
  });
  return Object.fromEntries(
    [...groups.entries()].map(([type, group]) => [
      type,
      {
        queries: group.queries,
        rank1: group.hits1 / group.queries,
        rank5: group.hits5 / group.queries,
        mAP: group.ap / group.queries,
        mAPTrapezoid: group.trapezoid / group.queries,
      },
    ]),
  );
}
