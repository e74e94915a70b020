import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import {
  cmcChartSpec,
  evaluationCurveSpec,
  galleryFramesChartSpec,
  lossChartSpec,
  modelsOf,
  perCameraChartSpec,
} from './chart-specs';
import { comparisonHeader, comparisonRows, verdict } from './comparison-table';
import { renderChartPng } from './render-chart';
import type { EvaluationPoint, LossPoint, RunMetrics } from './run-metrics';

/** An image already written into the report directory (e.g. the Grad-CAM panel). */
export interface ReportImage {
  /** File name relative to the report directory. */
  readonly file: string;
  readonly caption: string;
}

/** Inputs of `writeReport`. */
export interface ReportInput {
  readonly directory: string;
  readonly title?: string;
  readonly metrics: RunMetrics;
  readonly losses?: readonly LossPoint[];
  /** Evaluations during training (`--eval-every`), drawn as metric-vs-epoch curves. */
  readonly evaluations?: readonly EvaluationPoint[];
  readonly images?: readonly ReportImage[];
  /** What the report could not draw, and why (one sentence each); listed in the page. */
  readonly notes?: readonly string[];
}

/** What `writeReport` wrote. */
export interface ReportOutput {
  /** Absolute path of `index.html`. */
  readonly html: string;
  /** PNG files written (absolute paths). */
  readonly charts: readonly string[];
}

const escapeHtml = (text: string) =>
  text.replace(/[&<>"]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[ch] ?? ch);

/**
 * Writes `index.html` and PNG charts (Vega-Lite → SVG → PNG): `cmc.png` (teacher vs student, I2V and V2V),
 * `losses.png`, `evaluation-curves.png` (metric vs epoch), `gallery-frames.png` (paper Fig. 3), `per-camera.png`.
 * Charts without data are skipped; captions name only what is drawn. Images in `images` (already in `directory`) are
 * embedded with their captions; `notes` (what could not be drawn, and why) are listed.
 */
export async function writeReport(input: ReportInput): Promise<ReportOutput> {
  await mkdir(input.directory, { recursive: true });
  const models = modelsOf(input.metrics).map((model) => model.label);
  const modelList = models.length > 1 ? `${models.slice(0, -1).join(', ')} and ${models.at(-1)}` : (models[0] ?? '');
  const stages = [...new Set((input.losses ?? []).map((point) => point.stage))];
  const distilled = stages.includes('student');
  const lossCaption =
    `Loss terms per epoch (mean over the epoch's steps), ${stages.join(' and ')} stage${stages.length > 1 ? 's' : ''}. Terms are unweighted; ` +
    `total is the weighted sum${distilled ? ' (KD × α, DP × β)' : ''}.`;
  const curveStages = [...new Set((input.evaluations ?? []).map((point) => point.stage))];
  const candidates: Array<[string, string, TopLevelSpec | null]> = [
    ['cmc.png', `CMC curves of the ${modelList} (I2V solid, V2V dashed).`, cmcChartSpec(input.metrics)],
    ['losses.png', lossCaption, lossChartSpec(input.losses ?? [])],
    [
      'evaluation-curves.png',
      `Rank-1, mAP and mAPTrapezoid (%) evaluated during training every --eval-every epochs, ${curveStages.join(' and ')}.`,
      evaluationCurveSpec(input.evaluations ?? []),
    ],
    [
      'gallery-frames.png',
      `V2V rank-1 and mAP of the ${modelList} against the number of frames per gallery tracklet (paper Fig. 3).`,
      galleryFramesChartSpec(input.metrics),
    ],
    [
      'per-camera.png',
      `I2V rank-1 of the ${modelList} by the camera of the query frame (the dataset's camera names, query counts in brackets).`,
      perCameraChartSpec(input.metrics),
    ],
  ];
  const figures: ReportImage[] = [];
  const charts: string[] = [];
  for (const [file, caption, spec] of candidates) {
    if (!spec) continue;
    const path = join(input.directory, file);
    await renderChartPng(spec, path);
    charts.push(path);
    figures.push({ file, caption });
  }
  figures.push(...(input.images ?? []));
  const html = join(input.directory, 'index.html');
  await writeFile(html, renderHtml(input, figures));
  return { html, charts };
}

function renderHtml(input: ReportInput, figures: readonly ReportImage[]): string {
  const title = input.title ?? 'VKD run report';
  const rows = comparisonRows(input.metrics);
  const table = rows.length
    ? `<table><thead><tr>${comparisonHeader(input.metrics)
        .map((title) => `<th>${escapeHtml(title === 'Δ' ? 'Δ (points)' : title)}</th>`)
        .join('')}</tr></thead><tbody>${rows
        .map((row) => `<tr>${row.map((cell) => `<td>${escapeHtml(cell)}</td>`).join('')}</tr>`)
        .join('')}</tbody></table>`
    : '';
  const summary = verdict(input.metrics);
  const images = figures
    .map(
      (figure) =>
        `<figure><img src="${escapeHtml(figure.file)}" alt="${escapeHtml(figure.caption)}"><figcaption>${escapeHtml(figure.caption)}</figcaption></figure>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}
td:first-child,td:nth-child(2),th{text-align:left}figure{margin:2em 0}img{max-width:100%;border:1px solid #eee}
figcaption{color:#555;font-size:90%}pre{background:#f6f6f6;padding:1em;overflow:auto;font-size:85%}</style></head>
<body><h1>${escapeHtml(title)}</h1>
<p>Percentages. “mAP” is the non-interpolated mean AP (torchreid, fast-reid); “mAPTrapezoid” is the trapezoid mean AP of the official MARS evaluation code, which the VKD paper reports. The same two names are used in metrics.json, the logs and the charts. I2V: one query frame against gallery tracklets; V2V: query tracklet against gallery tracklets; matches in the query's own camera are junk.</p>
${summary ? `<p><strong>${escapeHtml(summary)}</strong></p>` : ''}
${table}
${images}
${input.notes?.length ? `<h2>Not drawn</h2><ul>${input.notes.map((note) => `<li>${escapeHtml(note)}</li>`).join('')}</ul>` : ''}
<h2>Settings</h2><pre>${escapeHtml(JSON.stringify(input.metrics.settings, null, 2))}</pre>
</body></html>
`;
}
