import { cameraName, findDatasetEntry, type ReidDataset } from '@vkd/datasets';
import { createEvaluationLoader } from '@vkd/datasets/node';
import type { ReidModel } from '@vkd/models';
import { evaluateModel, type EvaluationReport } from '@vkd/trainer';
import type { DataSettings } from '../config/stage-settings';
import type { ModelMetrics, ProtocolMetrics } from '../report/run-metrics';
import type { RunLog } from './run-log';

type RankingSummary = NonNullable<EvaluationReport['protocols']['i2v']>;

/** CMC points kept in `metrics.json` (charts show ranks 1..20). */
const CMC_LENGTH = 20;

/** The `metrics.json` form of one protocol's summary. */
export function protocolMetrics(summary: RankingSummary): ProtocolMetrics {
  return {
    rank1: summary.rank1,
    rank5: summary.rank5,
    mAP: summary.mAP,
    mAPTrapezoid: summary.mAPTrapezoid,
    mINP: summary.mINP,
    cmc: summary.cmc.slice(0, CMC_LENGTH),
    validQueries: summary.validQueries,
  };
}

/**
 * Converts the trainer's evaluation report into the `metrics.json` form (fractions, CMC to rank 20; cameras named as
 * the dataset names them).
 */
export function modelMetricsFromReport(report: EvaluationReport, datasetName: string = report.dataset): ModelMetrics {
  const { i2v, v2v } = report.protocols;
  const main = i2v ?? report.protocols.i2i;
  if (!main) throw new Error('evaluation report has neither I2V nor I2I results');
  return {
    i2v: protocolMetrics(main),
    ...(v2v ? { v2v: protocolMetrics(v2v) } : {}),
    // VeRi's image-gallery protocols, kept next to I2V (an image-only set's I2I already stands in the i2v slot).
    ...(i2v && report.protocols.i2i ? { i2i: protocolMetrics(report.protocols.i2i) } : {}),
    ...(i2v && report.protocols.v2i ? { v2i: protocolMetrics(report.protocols.v2i) } : {}),
    ...(report.galleryFramesSweep
      ? {
          galleryFrames: report.galleryFramesSweep.map((point) => ({
            frames: point.frames,
            rank1: point.v2v.rank1,
            mAP: point.v2v.mAP,
            mAPTrapezoid: point.v2v.mAPTrapezoid,
          })),
        }
      : {}),
    perCamera: main.perCamera.map((entry) => ({
      camera: entry.camera,
      cameraName: cameraName(datasetName, entry.camera),
      rank1: entry.rank1,
      mAP: entry.mAP,
      queries: entry.queries,
    })),
  };
}

/**
 * Evaluates a model with the VKD protocols (I2V and V2V for video sets, chunk-first test frames, cosine distance on
 * pre-BNNeck embeddings) and the gallery-frames sweep, with a progress bar over extracted frames.
 * @param label shown in the progress bar, e.g. `teacher`.
 */
export async function evaluateRun(
  model: ReidModel,
  dataset: ReidDataset,
  data: DataSettings,
  log: RunLog,
  label: string,
  galleryFramesSweep: readonly number[] = [1, 2, 4, 8],
): Promise<ModelMetrics> {
  return (await evaluateRunWithFeatures(model, dataset, data, log, label, galleryFramesSweep, false)).metrics;
}

/** {@link evaluateRun}, also returning the trainer's report (with the query/gallery features when `keepFeatures`). */
export async function evaluateRunWithFeatures(
  model: ReidModel,
  dataset: ReidDataset,
  data: DataSettings,
  log: RunLog,
  label: string,
  galleryFramesSweep: readonly number[],
  keepFeatures: boolean,
): Promise<{ metrics: ModelMetrics; report: EvaluationReport }> {
  const sweep = galleryFramesSweep.filter((frames) => frames !== data.testFrames);
  const frames = (tracklets: number, count: number) => tracklets * count;
  const total =
    frames(dataset.query.length, 1) +
    frames(dataset.query.length, data.testFrames) +
    frames(dataset.gallery.length, data.testFrames) +
    sweep.reduce((sum, count) => sum + frames(dataset.gallery.length, count), 0);
  const bar = log.progress(`evaluate ${label}`, total, 'img');
  const counting: Pick<ReidModel, 'forward'> = {
    forward(input, options) {
      const images = input.shape.slice(0, input.rank - 3).reduce((product, size) => product * size, 1);
      bar.tick(images, images);
      return model.forward(input, options);
    },
  };
  // ATRW letterboxes its frames at test time as in training (the dataset table's `resize`); --workers, --prefetch.
  const resize = findDatasetEntry(data.dataset)?.resize;
  const report = await evaluateModel(counting, dataset, {
    batches: (tracklets, request) =>
      createEvaluationLoader(tracklets, {
        ...request,
        ...(resize ? { resize } : {}),
        workers: data.workers,
        prefetch: data.prefetch,
      }),
    imageSize: [data.height, data.width],
    framesPerTracklet: data.testFrames,
    framesPerBatch: data.testBatch * data.testFrames,
    galleryFramesSweep: [...new Set([...galleryFramesSweep])].sort((a, b) => a - b),
    keepFeatures,
  });
  bar.done();
  return { metrics: modelMetricsFromReport(report, dataset.name), report };
}
