import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { renderChartPng } from './render-chart';
import {
  benchmarkVerdict,
  BENCHMARK_COMPARISONS,
  BENCHMARK_MEASURES,
  BENCHMARK_MODELS,
  differenceRows,
  modelRows,
  type SeedBenchmark,
} from './seed-benchmark';

const escapeHtml = (text: string) =>
  text.replace(/[&<>"]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[ch] ?? ch);

/**
 * Paired differences with their confidence intervals: one panel per comparison, a point (mean) and an error bar
 * (interval) per measure, a rule at 0. `null` without differences.
 */
export function differenceChartSpec(benchmark: SeedBenchmark): TopLevelSpec | null {
  if (benchmark.differences.length === 0) return null;
  const values = benchmark.differences.map((d) => ({
    comparison: d.comparison,
    measure: d.measure,
    mean: d.mean,
    low: d.low,
    high: d.high,
  }));
  const order = BENCHMARK_MEASURES.map(([, , label]) => label);
  const level = `${Math.round(benchmark.confidence * 100)} %`;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    background: 'white',
    title: `Paired differences over ${benchmark.seeds.length} seeds (points), mean and ${level} CI`,
    data: { values },
    facet: {
      column: { field: 'comparison', type: 'nominal', title: null, sort: BENCHMARK_COMPARISONS.map(([name]) => name) },
    },
    spec: {
      width: 300,
      height: 240,
      layer: [
        {
          mark: { type: 'rule', color: '#999', strokeDash: [4, 4] },
          encoding: { y: { datum: 0, type: 'quantitative' } },
        },
        {
          mark: { type: 'rule', strokeWidth: 2 },
          encoding: {
            x: { field: 'measure', type: 'nominal', sort: order, title: null, axis: { labelAngle: 0 } },
            y: { field: 'low', type: 'quantitative', title: 'difference (points)' },
            y2: { field: 'high' },
            color: { field: 'measure', type: 'nominal', sort: order, legend: null },
          },
        },
        {
          mark: { type: 'point', filled: true, size: 80 },
          encoding: {
            x: { field: 'measure', type: 'nominal', sort: order },
            y: { field: 'mean', type: 'quantitative' },
            color: { field: 'measure', type: 'nominal', sort: order, legend: null },
          },
        },
      ],
    },
    config: { font: 'sans-serif' },
  };
}

/** Per-seed values of every model for one measure, as dots with the mean as a tick (the ablation at a glance). */
export function seedValuesChartSpec(
  benchmark: SeedBenchmark,
  measure: (typeof BENCHMARK_MEASURES)[number][2],
): TopLevelSpec | null {
  const values = BENCHMARK_MODELS.flatMap(([role, label]) =>
    (benchmark.models[role]?.[measure]?.values ?? []).map((value, index) => ({
      model: label,
      seed: String(benchmark.seeds[index]),
      value,
    })),
  );
  if (values.length === 0) return null;
  const order = BENCHMARK_MODELS.map(([, label]) => label);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    background: 'white',
    title: `${measure} per seed (dots) and mean (tick)`,
    width: 420,
    height: 240,
    data: { values },
    layer: [
      {
        mark: { type: 'point', filled: true },
        encoding: {
          x: { field: 'model', type: 'nominal', sort: order, title: null, axis: { labelAngle: -20 } },
          y: { field: 'value', type: 'quantitative', title: `${measure} (%)`, scale: { zero: false } },
          color: { field: 'seed', type: 'nominal' },
        },
      },
      {
        mark: { type: 'tick', color: 'black', thickness: 2 },
        encoding: {
          x: { field: 'model', type: 'nominal', sort: order },
          y: { aggregate: 'mean', field: 'value', type: 'quantitative' },
        },
      },
    ],
    config: { font: 'sans-serif' },
  };
}

const table = (rows: readonly (readonly string[])[]) =>
  `<table><thead><tr>${(rows[0] ?? []).map((cell) => `<th>${escapeHtml(cell)}</th>`).join('')}</tr></thead><tbody>${rows
    .slice(1)
    .map((row) => `<tr>${row.map((cell) => `<td>${escapeHtml(cell)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;

/**
 * Writes the multi-seed report: `index.html` with the per-model (ablation) table, the paired-difference table, and
 * `differences.png` / `i2v-map-per-seed.png` charts.
 * @returns the absolute path of `index.html`.
 */
export async function writeBenchmarkReport(
  directory: string,
  benchmark: SeedBenchmark,
  settings: Record<string, unknown>,
): Promise<string> {
  await mkdir(directory, { recursive: true });
  const figures: string[] = [];
  const charts: Array<[string, string, TopLevelSpec | null]> = [
    [
      'differences.png',
      'VKD − teacher and VKD − no-KD control: mean over seeds (dot) and confidence interval of the paired difference (bar).',
      differenceChartSpec(benchmark),
    ],
    [
      'i2v-map-per-seed.png',
      'I2V mAP (paper form) of every model, one colour per seed.',
      seedValuesChartSpec(benchmark, 'I2V mAP'),
    ],
  ];
  for (const [file, caption, spec] of charts) {
    if (!spec) continue;
    await renderChartPng(spec, join(directory, file));
    figures.push(
      `<figure><img src="${file}" alt="${escapeHtml(caption)}"><figcaption>${escapeHtml(caption)}</figcaption></figure>`,
    );
  }
  const html = join(directory, 'index.html');
  await writeFile(
    html,
    `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>VKD demo over ${benchmark.seeds.length} seeds</title>
<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}
td:first-child,td:nth-child(2),th{text-align:left}figure{margin:2em 0}img{max-width:100%;border:1px solid #eee}
figcaption{color:#555;font-size:90%}pre{background:#f6f6f6;padding:1em;overflow:auto;font-size:85%}</style></head>
<body><h1>VKD demo over ${benchmark.seeds.length} seeds (${escapeHtml(benchmark.seeds.join(', '))})</h1>
<p>Each seed draws its own synthetic set and its own initialisation and batches; all students of a seed start from the
same teacher. Percentages; mAP is the paper's trapezoid form. Intervals: paired Student t over seeds.</p>
<p><strong>${escapeHtml(benchmarkVerdict(benchmark))}</strong></p>
<h2>Models (mean ± sd over seeds)</h2>${table(modelRows(benchmark))}
<h2>Paired differences</h2>${table(differenceRows(benchmark))}
${figures.join('\n')}
<h2>Settings</h2><pre>${escapeHtml(JSON.stringify(settings, null, 2))}</pre>
</body></html>
`,
  );
  return html;
}
