import type { TopLevelSpec } from 'vega-lite';
import type { EvaluationPoint, LossPoint, ModelMetrics, RunMetrics } from './run-metrics';

/** Models of a run in display order, with their label. */
export function modelsOf(metrics: RunMetrics): Array<{ label: string; metrics: ModelMetrics }> {
  const models: Array<{ label: string; metrics: ModelMetrics }> = [];
  if (metrics.teacher) models.push({ label: 'teacher', metrics: metrics.teacher });
  if (metrics.student) models.push({ label: 'student (VKD)', metrics: metrics.student });
  if (metrics.baseline) models.push({ label: 'student without KD', metrics: metrics.baseline });
  if (metrics.model) models.push({ label: 'model', metrics: metrics.model });
  return models;
}

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** Teacher first, student second, in every chart and legend. */
const MODEL_ORDER = ['teacher', 'student (VKD)', 'student without KD', 'model'];
const modelColor = (values: ReadonlyArray<{ model: string }>) => {
  const present = MODEL_ORDER.filter((label) => values.some((value) => value.model === label));
  return { field: 'model', type: 'nominal', title: 'model', scale: { domain: present }, sort: present } as const;
};
/** A legend drawing dashed/solid line samples instead of dots. */
const DASH_LEGEND = {
  symbolType: 'stroke',
  symbolStrokeWidth: 2,
  symbolSize: 400,
  symbolStrokeColor: '#555',
  symbolFillColor: '#555',
  symbolOpacity: 1,
} as const;
const BASE = { $schema: SCHEMA, background: 'white', width: 420, height: 260, config: { font: 'sans-serif' } } as const;

/** CMC curves (rank 1..20) of every model and protocol. `null` when no model has a CMC curve. */
export function cmcChartSpec(metrics: RunMetrics): TopLevelSpec | null {
  const values = modelsOf(metrics).flatMap(({ label, metrics: model }) =>
    (['i2v', 'v2v'] as const).flatMap((protocol) =>
      (model[protocol]?.cmc ?? []).slice(0, 20).map((accuracy, index) => ({
        model: label,
        protocol: protocol.toUpperCase(),
        rank: index + 1,
        accuracy: accuracy * 100,
      })),
    ),
  );
  if (values.length === 0) return null;
  return {
    ...BASE,
    title: 'CMC: teacher vs student',
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: {
        field: 'rank',
        type: 'quantitative',
        title: 'rank',
        scale: { domain: [1, Math.max(...values.map((v) => v.rank))] },
      },
      y: { field: 'accuracy', type: 'quantitative', title: 'matching rate (%)', scale: { zero: false } },
      color: modelColor(values),
      strokeDash: { field: 'protocol', type: 'nominal', title: 'protocol', legend: DASH_LEGEND },
    },
  };
}

/** Loss terms per epoch, one panel per stage, log-scaled y. `null` without loss points. */
export function lossChartSpec(points: readonly LossPoint[]): TopLevelSpec | null {
  const values = points.filter((point) => Number.isFinite(point.value) && point.value > 0);
  if (values.length === 0) return null;
  return {
    $schema: SCHEMA,
    background: 'white',
    title: 'Training losses (epoch means)',
    data: { values: values.map((point) => ({ ...point })) },
    facet: { column: { field: 'stage', type: 'nominal', title: null, sort: ['teacher', 'student'] } },
    spec: {
      width: 320,
      height: 240,
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'epoch', type: 'quantitative', title: 'epoch' },
        y: { field: 'value', type: 'quantitative', title: 'loss (log scale)', scale: { type: 'log' } },
        color: { field: 'term', type: 'nominal', title: 'term' },
      },
    },
    resolve: { scale: { x: 'independent', y: 'shared' } },
    config: { font: 'sans-serif' },
  };
}

/** V2V rank-1 and mAP against the number of gallery frames (paper Fig. 3). `null` without sweep data. */
export function galleryFramesChartSpec(metrics: RunMetrics): TopLevelSpec | null {
  const values = modelsOf(metrics).flatMap(({ label, metrics: model }) =>
    (model.galleryFrames ?? []).flatMap((point) => [
      { model: label, frames: point.frames, metric: 'rank-1', value: point.rank1 * 100 },
      { model: label, frames: point.frames, metric: 'mAP', value: point.mAP * 100 },
    ]),
  );
  if (values.length === 0) return null;
  return {
    ...BASE,
    title: 'Gallery frames sweep (V2V)',
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: {
        field: 'frames',
        type: 'quantitative',
        title: 'frames per gallery tracklet',
        scale: { type: 'log', base: 2 },
        axis: { values: [...new Set(values.map((v) => v.frames))] },
      },
      y: { field: 'value', type: 'quantitative', title: '%', scale: { zero: false } },
      color: modelColor(values),
      strokeDash: { field: 'metric', type: 'nominal', title: 'metric', legend: DASH_LEGEND },
    },
  };
}

/** I2V rank-1 per query camera (the dataset's camera names, with query counts), bars per model. `null` without data. */
export function perCameraChartSpec(metrics: RunMetrics): TopLevelSpec | null {
  const values = modelsOf(metrics).flatMap(({ label, metrics: model }) =>
    (model.perCamera ?? []).map((entry) => ({
      model: label,
      camera: `${entry.cameraName ?? `cam ${entry.camera}`} (${entry.queries} q)`,
      rank1: entry.rank1 * 100,
      queries: entry.queries,
    })),
  );
  if (values.length === 0) return null;
  return {
    ...BASE,
    title: 'I2V rank-1 by query camera',
    data: { values },
    mark: { type: 'bar' },
    encoding: {
      x: { field: 'camera', type: 'nominal', title: 'query camera', axis: { labelAngle: 0 } },
      xOffset: { field: 'model', type: 'nominal', sort: MODEL_ORDER },
      y: { field: 'rank1', type: 'quantitative', title: 'rank-1 (%)', scale: { domain: [0, 100] } },
      color: modelColor(values),
      tooltip: [{ field: 'queries', type: 'quantitative' }],
    },
  };
}

/** Metrics drawn against the epoch: rank-1 and both mAPs of I2V and V2V. */
const CURVE_METRICS = ['i2v.rank1', 'i2v.mAP', 'i2v.mAPTrapezoid', 'v2v.rank1', 'v2v.mAP', 'v2v.mAPTrapezoid'];

/** Evaluation during training (`--eval-every`): metric vs epoch, one panel per stage. `null` without points. */
export function evaluationCurveSpec(points: readonly EvaluationPoint[]): TopLevelSpec | null {
  const values = points
    .filter((point) => CURVE_METRICS.includes(point.metric))
    .map((point) => ({ ...point, value: point.value * 100 }));
  if (values.length === 0) return null;
  return {
    $schema: SCHEMA,
    background: 'white',
    title: 'Evaluation during training (--eval-every)',
    data: { values },
    facet: { column: { field: 'stage', type: 'nominal', title: null, sort: ['teacher', 'student'] } },
    spec: {
      width: 320,
      height: 240,
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1, format: 'd' } },
        y: { field: 'value', type: 'quantitative', title: '%', scale: { zero: false } },
        color: { field: 'metric', type: 'nominal', title: 'metric', sort: CURVE_METRICS },
      },
    },
    resolve: { scale: { x: 'independent' } },
    config: { font: 'sans-serif' },
  };
}
