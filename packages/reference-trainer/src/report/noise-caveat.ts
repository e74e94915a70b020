/** Differences between two models on the same queries, in percentage points. */
export interface PointDifferences {
  readonly rank1: number;
  readonly mAP: number;
}

/** How much one query can move the numbers of an evaluation with `queries` valid queries. */
export interface NoiseCaveat {
  readonly queries: number;
  /** Rank-1 points one query is worth: 100 / queries (one query's hit or miss). Also the most one query's AP can move the mAP. */
  readonly pointsPerQuery: number;
  /** Whether each difference is at most one query's worth (|Δ| ≤ pointsPerQuery, up to rounding). */
  readonly withinOneQuery: { readonly rank1: boolean; readonly mAP: boolean };
  /** One sentence for the verdict, e.g. "One query is 2.78 rank-1 points here (36 queries): …". */
  readonly text: string;
}

/** Differences this close to one query's worth count as within it (printed values have two decimals). */
const ROUNDING = 1e-9;

/**
 * The noise caveat of a comparison on `queries` queries: one query is 100/Q rank-1 points (its first match is at rank
 * 1 or not) and can move the mAP by up to 100/Q points (its AP is in [0, 1]). A difference no larger than that could
 * come from a single query; the sentence says which differences are. Multi-seed confidence intervals (`vkd demo`)
 * build on this.
 * @param queries valid queries of the evaluation (both models ranked the same queries).
 * @param differences student − teacher (or any pair) in percentage points.
 * @returns undefined when `queries` is not a positive number (the count was not recorded).
 */
export function noiseCaveat(queries: number | undefined, differences: PointDifferences): NoiseCaveat | undefined {
  if (queries === undefined || !Number.isFinite(queries) || queries < 1) return undefined;
  const pointsPerQuery = 100 / queries;
  const within = (difference: number) => Math.abs(difference) <= pointsPerQuery + ROUNDING;
  const withinOneQuery = { rank1: within(differences.rank1), mAP: within(differences.mAP) };
  const inside = [withinOneQuery.rank1 ? 'rank-1' : undefined, withinOneQuery.mAP ? 'mAP' : undefined].filter(Boolean);
  const judgement =
    inside.length === 2
      ? 'both differences are within one query, so this is no evidence either way'
      : inside.length === 1
        ? `the ${inside[0]} difference is within one query (noise), the other is not`
        : 'both differences exceed one query';
  const text = `One query is ${pointsPerQuery.toFixed(2)} rank-1 points here (${queries} queries): ${judgement}.`;
  return { queries, pointsPerQuery, withinOneQuery, text };
}
