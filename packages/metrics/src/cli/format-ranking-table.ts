import type { RankingResult } from '../ranking-accumulator';

/** A fixed-width table of Rank-1/5/10/20, mAP, trapezoid mAP and mINP in percent, with the query counts. */
export function formatRankingTable(
  result: RankingResult,
  settings: { metric: string; queries: number; gallery: number },
): string {
  const percent = (value: number | undefined) => (value === undefined ? '—' : `${(value * 100).toFixed(2)}%`);
  const at = (rank: number) => (rank <= result.cmc.length ? result.cmc[rank - 1] : undefined);
  const columns: [string, string][] = [
    ['Rank-1', percent(at(1))],
    ['Rank-5', percent(at(5))],
    ['Rank-10', percent(at(10))],
    ['Rank-20', percent(at(20))],
    ['mAP', percent(result.mAP)],
    ['mAPTrapezoid', percent(result.mAPTrapezoid)],
    ['mINP', percent(result.mINP)],
  ];
  const widths = columns.map(([name, value]) => Math.max(name.length, value.length));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padStart(widths[i] as number)).join('  ');
  const skipped = result.skippedQueries.length;
  return [
    `queries ${settings.queries} (valid ${result.validQueries}${skipped ? `, skipped ${skipped} without a match` : ''}) · gallery ${settings.gallery} · metric ${settings.metric}`,
    line(columns.map(([name]) => name)),
    line(columns.map(([, value]) => value)),
  ].join('\n');
}
