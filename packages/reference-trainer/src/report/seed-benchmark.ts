import { InvalidOptionError } from '@vkd/core';
import type { ModelMetrics, ProtocolMetrics } from './run-metrics';
import { pairedDifference, summarize, type PairedDifference, type SeedSummary } from './seed-statistics';

/** The measures a multi-seed benchmark summarises: `[protocol, key, label]`. mAP is the paper's trapezoid form. */
export const BENCHMARK_MEASURES = [
  ['i2v', 'rank1', 'I2V rank-1'],
  ['i2v', 'mAPTrapezoid', 'I2V mAP'],
  ['v2v', 'rank1', 'V2V rank-1'],
  ['v2v', 'mAPTrapezoid', 'V2V mAP'],
] as const satisfies ReadonlyArray<readonly ['i2v' | 'v2v', keyof ProtocolMetrics, string]>;

/** Label of a benchmark measure, e.g. `I2V mAP`. */
export type MeasureLabel = (typeof BENCHMARK_MEASURES)[number][2];

/**
 * The models of one seed, by role: the teacher, the VKD student (CE + TR + KD + DP), the no-KD control (CE + TR, the
 * same student trained with α = β = 0) and, for the ablation, the students with only one of the two terms.
 */
export const BENCHMARK_MODELS = [
  ['teacher', 'teacher'],
  ['baseline', 'CE+TR (no-KD control)'],
  ['kdOnly', 'CE+TR+KD'],
  ['dpOnly', 'CE+TR+DP'],
  ['student', 'CE+TR+KD+DP (VKD)'],
] as const;

/** Role of a model in a seed run. */
export type BenchmarkRole = (typeof BENCHMARK_MODELS)[number][0];

/** The metrics of one seed. */
export interface SeedRun {
  readonly seed: number;
  readonly models: Partial<Record<BenchmarkRole, ModelMetrics>>;
}

/** One measure of one model over the seeds (percentage points), with the per-seed values. */
export interface MeasureSummary extends SeedSummary {
  readonly values: readonly number[];
}

/** A paired difference of one measure between two roles (percentage points). */
export interface BenchmarkDifference extends PairedDifference {
  readonly measure: MeasureLabel;
  /** e.g. `VKD − teacher`. */
  readonly comparison: string;
  readonly values: readonly number[];
}

/** What `seedBenchmark` computes: everything in percentage points. */
export interface SeedBenchmark {
  readonly seeds: readonly number[];
  readonly confidence: number;
  /** Per role present in every seed, per measure. */
  readonly models: Partial<Record<BenchmarkRole, Record<MeasureLabel, MeasureSummary>>>;
  /** VKD − teacher and VKD − no-KD control for every measure (when those models are present). */
  readonly differences: readonly BenchmarkDifference[];
}

/** The comparisons reported, `[name, a, b]`: a − b. */
export const BENCHMARK_COMPARISONS = [
  ['VKD − teacher', 'student', 'teacher'],
  ['VKD − no-KD control', 'student', 'baseline'],
] as const satisfies ReadonlyArray<readonly [string, BenchmarkRole, BenchmarkRole]>;

function measureValue(model: ModelMetrics, protocol: 'i2v' | 'v2v', key: keyof ProtocolMetrics): number | undefined {
  const value = model[protocol]?.[key];
  return typeof value === 'number' ? value * 100 : undefined;
}

/**
 * Summarises per-seed runs: mean ± sd of every model and measure, and paired Student-t intervals (over seeds) of
 * VKD − teacher and VKD − control. Roles missing from any seed are left out.
 * @throws InvalidOptionError for fewer than 2 seeds or a repeated seed.
 */
export function seedBenchmark(runs: readonly SeedRun[], confidence = 0.95): SeedBenchmark {
  if (runs.length < 2)
    throw new InvalidOptionError(
      '--seeds',
      runs.map((run) => run.seed),
      'A multi-seed benchmark needs at least 2 seeds.',
    );
  const seeds = runs.map((run) => run.seed);
  if (new Set(seeds).size !== seeds.length)
    throw new InvalidOptionError('--seeds', seeds, 'Each seed may appear once.');
  const valuesOf = (role: BenchmarkRole, protocol: 'i2v' | 'v2v', key: keyof ProtocolMetrics): number[] | undefined => {
    const values = runs.map((run) => (run.models[role] ? measureValue(run.models[role], protocol, key) : undefined));
    return values.every((value) => value !== undefined) ? (values as number[]) : undefined;
  };
  const models: SeedBenchmark['models'] = {};
  for (const [role] of BENCHMARK_MODELS) {
    const measures: Partial<Record<MeasureLabel, MeasureSummary>> = {};
    for (const [protocol, key, label] of BENCHMARK_MEASURES) {
      const values = valuesOf(role, protocol, key);
      if (values) measures[label] = { ...summarize(values), values };
    }
    if (Object.keys(measures).length === BENCHMARK_MEASURES.length)
      models[role] = measures as Record<MeasureLabel, MeasureSummary>;
  }
  const differences: BenchmarkDifference[] = [];
  for (const [comparison, a, b] of BENCHMARK_COMPARISONS) {
    for (const [protocol, key, measure] of BENCHMARK_MEASURES) {
      const left = valuesOf(a, protocol, key);
      const right = valuesOf(b, protocol, key);
      if (!left || !right) continue;
      const values = left.map((value, index) => value - (right[index] as number));
      differences.push({ ...pairedDifference(left, right, confidence), measure, comparison, values });
    }
  }
  return { seeds, confidence, models, differences };
}

const fixed = (value: number) => value.toFixed(2);
const signed = (value: number) => `${value >= 0 ? '+' : ''}${value.toFixed(2)}`;

function formatTable(rows: readonly (readonly string[])[], textColumns: number): string {
  const widths = (rows[0] ?? []).map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  const line = (row: readonly string[]) =>
    row
      .map((cell, column) =>
        column < textColumns ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0),
      )
      .join('  ');
  return [line(rows[0] ?? []), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.slice(1).map(line)].join(
    '\n',
  );
}

/** Rows of the per-model table (the paper's "impact of loss terms" ablation when all students are present). */
export function modelRows(benchmark: SeedBenchmark): string[][] {
  const header = ['model', ...BENCHMARK_MEASURES.map(([, , label]) => label)];
  const rows = BENCHMARK_MODELS.filter(([role]) => benchmark.models[role]).map(([role, label]) => [
    label,
    ...BENCHMARK_MEASURES.map(([, , measure]) => {
      const summary = benchmark.models[role]?.[measure];
      return summary ? `${fixed(summary.mean)} ± ${fixed(summary.standardDeviation)}` : '—';
    }),
  ]);
  return [header, ...rows];
}

/** Rows of the differences table: mean ± sd and the confidence interval of each paired difference. */
export function differenceRows(benchmark: SeedBenchmark): string[][] {
  const level = `${Math.round(benchmark.confidence * 100)} % CI`;
  const header = ['difference', 'measure', 'mean ± sd', level, 'excludes 0'];
  const rows = benchmark.differences.map((difference) => [
    difference.comparison,
    difference.measure,
    `${signed(difference.mean)} ± ${fixed(difference.standardDeviation)}`,
    `[${signed(difference.low)}, ${signed(difference.high)}]`,
    difference.excludesZero ? (difference.mean > 0 ? 'yes (> 0)' : 'yes (< 0)') : 'no',
  ]);
  return [header, ...rows];
}

/** The two plain-text tables printed by `vkd demo --seeds`. */
export function formatSeedBenchmark(benchmark: SeedBenchmark): string {
  return [
    `Over ${benchmark.seeds.length} seeds (${benchmark.seeds.join(', ')}), percentages, mean ± sample standard deviation:`,
    formatTable(modelRows(benchmark), 1),
    '',
    `Paired differences over seeds (points; Student t with ${benchmark.seeds.length - 1} degrees of freedom):`,
    formatTable(differenceRows(benchmark), 2),
  ].join('\n');
}

/** One sentence per comparison on I2V mAP and rank-1 (the paper's headline), with the interval. */
export function benchmarkVerdict(benchmark: SeedBenchmark): string {
  const level = `${Math.round(benchmark.confidence * 100)} %`;
  const sentences = BENCHMARK_COMPARISONS.flatMap(([comparison]) => {
    const map = benchmark.differences.find((d) => d.comparison === comparison && d.measure === 'I2V mAP');
    const rank = benchmark.differences.find((d) => d.comparison === comparison && d.measure === 'I2V rank-1');
    if (!map || !rank) return [];
    const describe = (d: BenchmarkDifference) => `${signed(d.mean)} [${signed(d.low)}, ${signed(d.high)}]`;
    const outcome =
      map.excludesZero && rank.excludesZero && map.mean > 0 && rank.mean > 0
        ? 'positive on both, intervals exclude 0'
        : map.excludesZero && map.mean < 0
          ? 'negative on mAP'
          : map.excludesZero || rank.excludesZero
            ? 'only partly distinguishable from 0'
            : 'not distinguishable from 0';
    return [`${comparison}: I2V mAP ${describe(map)}, rank-1 ${describe(rank)} points (${level} CI; ${outcome}).`];
  });
  return sentences.join(' ');
}
