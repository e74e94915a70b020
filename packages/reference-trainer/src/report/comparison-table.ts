import { noiseCaveat } from './noise-caveat';
import { EVALUATION_PROTOCOLS } from '@vkd/datasets';
import type { ModelMetrics, ProtocolMetrics, RunMetrics } from './run-metrics';

const COLUMNS = [
  ['rank1', 'rank-1'],
  ['rank5', 'rank-5'],
  ['mAP', 'mAP'],
  ['mAPTrapezoid', 'mAPTrapezoid'],
  ['mINP', 'mINP'],
] as const satisfies ReadonlyArray<readonly [keyof ProtocolMetrics, string]>;

const percent = (value: number | undefined) => (value === undefined ? '—' : (value * 100).toFixed(2));

const signed = (value: number) => `${value >= 0 ? '+' : ''}${value.toFixed(2)}`;

/** Column titles of `comparisonRows` (the last one only when the run has a no-KD baseline). */
export function comparisonHeader(metrics: RunMetrics): string[] {
  return ['protocol', 'metric', 'teacher', 'student', 'Δ', ...(metrics.baseline ? ['no-KD student'] : [])];
}

/**
 * Rows of the teacher-vs-student table: `[protocol, metric, teacher, student, Δ (points), no-KD student?]` as display
 * strings (percentages).
 */
export function comparisonRows(metrics: RunMetrics): string[][] {
  const rows: string[][] = [];
  for (const protocol of EVALUATION_PROTOCOLS) {
    if (!metrics.teacher?.[protocol] && !metrics.student?.[protocol]) continue;
    for (const [key, label] of COLUMNS) {
      const teacher = metrics.teacher?.[protocol]?.[key] as number | undefined;
      const student = metrics.student?.[protocol]?.[key] as number | undefined;
      const delta = teacher !== undefined && student !== undefined ? signed((student - teacher) * 100) : '—';
      const baseline = metrics.baseline ? [percent(metrics.baseline[protocol]?.[key] as number | undefined)] : [];
      rows.push([protocol.toUpperCase(), label, percent(teacher), percent(student), delta, ...baseline]);
    }
  }
  return rows;
}

/** Plain-text side-by-side table (percentages), as printed by `vkd demo`. */
export function formatComparisonTable(metrics: RunMetrics): string {
  const header = comparisonHeader(metrics);
  const rows = [header, ...comparisonRows(metrics)];
  const widths = header.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  const line = (row: string[]) =>
    row.map((cell, column) => (column < 2 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ');
  return [line(header), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

/** Plain-text table of one model's metrics (`vkd evaluate`). */
export function formatModelTable(model: ModelMetrics): string {
  const lines = ['protocol  rank-1  rank-5     mAP  mAPTrapezoid    mINP'];
  for (const protocol of EVALUATION_PROTOCOLS) {
    const values = model[protocol];
    if (!values) continue;
    lines.push(
      `${protocol.toUpperCase().padEnd(8)}  ${[values.rank1, values.rank5, values.mAP, values.mAPTrapezoid, values.mINP].map((v, i) => percent(v).padStart(i === 3 ? 12 : 6)).join('  ')}`,
    );
  }
  return lines.join('\n');
}

/** `I2V rank-1 by query camera: C1 62.50 (8 queries), C2 …` (empty without per-camera data). */
export function formatPerCamera(model: ModelMetrics): string {
  const cameras = model.perCamera ?? [];
  if (cameras.length === 0) return '';
  const entries = cameras.map(
    (entry) =>
      `${entry.cameraName ?? `cam ${entry.camera}`} ${percent(entry.rank1)} (${entry.queries} ${entry.queries === 1 ? 'query' : 'queries'})`,
  );
  return `I2V rank-1 by query camera: ${entries.join(', ')}`;
}

/**
 * One honest sentence on whether the student beats the teacher on I2V (the paper's headline setting), by the paper's
 * trapezoid mAP (`mAPTrapezoid`) and rank-1, followed by the noise caveat (`noiseCaveat`: what one query is worth).
 * @returns undefined when either model is missing.
 */
export function verdict(metrics: RunMetrics): string | undefined {
  const teacher = metrics.teacher?.i2v;
  const student = metrics.student?.i2v;
  if (!teacher || !student) return undefined;
  const mapDelta = (student.mAPTrapezoid - teacher.mAPTrapezoid) * 100;
  const rankDelta = (student.rank1 - teacher.rank1) * 100;
  const outcome =
    mapDelta > 0 && rankDelta >= 0
      ? 'The student beats the teacher on I2V'
      : mapDelta > 0 || rankDelta > 0
        ? 'Mixed result: the student beats the teacher on one I2V measure only'
        : 'The student does NOT beat the teacher on I2V';
  const caveat = noiseCaveat(student.validQueries ?? teacher.validQueries, { rank1: rankDelta, mAP: mapDelta });
  const main = `${outcome} (trapezoid mAP ${signed(mapDelta)} points, rank-1 ${signed(rankDelta)} points).${caveat ? ` ${caveat.text}` : ''}`;
  const baseline = metrics.baseline?.i2v;
  if (!baseline) return main;
  const kdMap = (student.mAPTrapezoid - baseline.mAPTrapezoid) * 100;
  const kdRank = (student.rank1 - baseline.rank1) * 100;
  const kdOutcome =
    kdMap > 0 && kdRank >= 0
      ? 'distillation helps'
      : kdMap > 0 || kdRank > 0
        ? 'distillation helps on one measure only'
        : 'distillation does NOT help';
  const kdCaveat = noiseCaveat(student.validQueries ?? baseline.validQueries, { rank1: kdRank, mAP: kdMap });
  const kdNoise = kdCaveat ? ` ${kdCaveat.text.replace(/^One query is [^:]*: /, 'Against the control, ')}` : '';
  return `${main} Against the same student trained without KD/DP (α = β = 0), ${kdOutcome} (I2V trapezoid mAP ${signed(kdMap)}, rank-1 ${signed(kdRank)} points).${kdNoise}`;
}
