import { mkdir, readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { ReidDataset } from '@vkd/datasets';
import { loadReidModel, modelMetadata, type ReidModel } from '@vkd/models';
import { readEvaluationLog } from '../report/read-evaluation-log';
import { readLossLog } from '../report/read-loss-log';
import type { EvaluationPoint, LossPoint, RunMetrics } from '../report/run-metrics';
import { writeReport, type ReportImage, type ReportOutput } from '../report/write-report';
import type { DataSettings, LoaderSettings } from '../config/stage-settings';
import { evaluateRunWithFeatures } from './evaluate-run';
import { protocolFeatures } from './evaluation-features';
import { writeHeatmaps } from './heatmaps';
import { writeRankedResults } from './ranked-results';
import type { RunLog } from './run-log';
import { locateRun } from './run-layout';

/** Options of `reportRun`. */
export interface ReportRunOptions {
  readonly runDirectory: string;
  readonly outDirectory: string;
  readonly metrics: RunMetrics;
  /** Query frames in the Grad-CAM panel (0: none). */
  readonly heatmaps: number;
  /** Needed for the Grad-CAM panel (query frames). */
  readonly dataset?: ReidDataset;
  /** Why `dataset` is absent (said in the report when the Grad-CAM panel cannot be drawn). */
  readonly datasetProblem?: string;
  /** Input size when the models do not record theirs (the run's settings). */
  readonly imageSize?: readonly [number, number];
  /** `--workers` / `--prefetch` of the loader that evaluates for the ranked results. */
  readonly loader: LoaderSettings;
  /** Models already in memory; otherwise the run's model directories (`locateRun`) are loaded when present. */
  readonly teacher?: ReidModel;
  readonly student?: ReidModel;
  readonly log: RunLog;
  readonly title?: string;
  /** `--ranked N`: also draw the N worst queries' ranked results of the run's (student) model (needs `dataset`). */
  readonly ranked?: number;
}

/** Ranked-result pictures written by `vkd evaluate --ranked` into the run directory, embedded when present. */
const RANKED_PICTURE = /^ranked-(i2v|v2v|i2i|v2i)\.png$/;

/**
 * Writes the HTML report of any run the CLI writes — `vkd demo`, `vkd train-teacher`, `vkd distill` (with the teacher
 * it names) or `vkd evaluate --out` (`locateRun`): charts from `metrics` and the training logs (losses, evaluation
 * curves), ranked-result pictures found in the run, and the Grad-CAM panel of the models found. Whatever cannot be
 * drawn is listed in the report and logged, with the reason.
 */
export async function reportRun(options: ReportRunOptions): Promise<ReportOutput> {
  const { runDirectory, log } = options;
  await mkdir(options.outDirectory, { recursive: true });
  const layout = await locateRun(runDirectory, options.metrics);
  const notes = [...layout.missing];
  const losses: LossPoint[] = [];
  const evaluations: EvaluationPoint[] = [];
  for (const { stage, path } of layout.logs) {
    losses.push(
      ...(await readLossLog(path, stage, {
        onDamagedLines: (file, lines) =>
          notes.push(`${file}: ${lines.length} damaged line(s) skipped in the loss curves.`),
      })),
    );
    const read = await readEvaluationLog(path, stage);
    evaluations.push(...read.points);
    if (read.skippedLines > 0) notes.push(`${path}: ${read.skippedLines} damaged line(s) skipped.`);
  }
  if (layout.logs.length > 0 && evaluations.length === 0) {
    notes.push(
      'no evaluation curves: the training logs hold no evaluation (train with --eval-every N to evaluate every N epochs).',
    );
  }
  const images: ReportImage[] = [];
  const ranked =
    (options.ranked ?? 0) > 0
      ? []
      : (await readdir(runDirectory).catch(() => [] as string[])).filter((file) => RANKED_PICTURE.test(file)).sort();
  if (ranked.length > 0) {
    const { copyFile } = await import('node:fs/promises');
    for (const file of ranked) {
      if (runDirectory !== options.outDirectory)
        await copyFile(join(runDirectory, file), join(options.outDirectory, file));
      const protocol = (RANKED_PICTURE.exec(file)?.[1] ?? '').toUpperCase();
      images.push({
        file,
        caption: `${protocol} ranked results (vkd evaluate --ranked): each row a query (grey border), then its top-ranked gallery tracklets' first frames, green border correct, red wrong, distance under each.`,
      });
    }
  }
  if ((options.ranked ?? 0) > 0) images.push(...(await rankedPictures(options, layout.models, notes)));
  if (options.heatmaps > 0) images.push(...(await heatmapPanel(options, layout.models, notes)));
  for (const note of notes) log.info(`report: ${note}`);
  return writeReport({
    directory: options.outDirectory,
    metrics: options.metrics,
    losses,
    evaluations,
    images,
    notes,
    ...(options.title ? { title: options.title } : {}),
  });
}

/** `--ranked N`: evaluates the run's student (or its only model) with features kept and draws the ranked results. */
async function rankedPictures(
  options: ReportRunOptions,
  found: { teacher?: string; student?: string; model?: string },
  notes: string[],
): Promise<ReportImage[]> {
  if (!options.dataset) {
    notes.push(`no ranked results: ${options.datasetProblem ?? "the run's dataset is not available"}.`);
    return [];
  }
  const directory = found.student ?? found.model ?? found.teacher;
  const given = options.student;
  if (!given && !directory) {
    notes.push('no ranked results: no model of this run was found (see above).');
    return [];
  }
  const model = given ?? (await loadReidModel(directory as string));
  try {
    const recorded = modelMetadata(model);
    const settings = (options.metrics.settings as { data?: Partial<DataSettings> }).data ?? {};
    const imageSize = recorded ? [recorded.input.height, recorded.input.width] : options.imageSize;
    if (!imageSize) {
      notes.push('no ranked results: neither the model nor metrics.json records the input size.');
      return [];
    }
    const data: DataSettings = {
      dataset: options.dataset.name,
      root: options.dataset.root,
      skipBadFrames: false,
      height: imageSize[0] as number,
      width: imageSize[1] as number,
      testFrames: settings.testFrames ?? recorded?.training?.testFrames ?? 8,
      testBatch: settings.testBatch ?? 32,
      seed: settings.seed ?? 0,
      ...options.loader,
    };
    const label = given || found.student ? 'student' : found.model ? 'model' : 'teacher';
    const { report } = await evaluateRunWithFeatures(
      model,
      options.dataset,
      data,
      options.log,
      `${label} (ranked results)`,
      [],
      true,
    );
    const pictures = await writeRankedResults(
      protocolFeatures(report),
      options.dataset,
      { worst: options.ranked ?? 0 },
      options.outDirectory,
    );
    return pictures.map((path) => {
      const file = basename(path);
      return {
        file,
        caption: `${(RANKED_PICTURE.exec(file)?.[1] ?? '').toUpperCase()} ranked results of the ${label}: the ${options.ranked} queries with the lowest AP (grey border), their top-ranked gallery tracklets' first frames, green border correct, red wrong, cosine distance under each.`,
      };
    });
  } finally {
    if (!given) model.dispose();
  }
}

/** The Grad-CAM panel of the models in memory or found in the run; a note saying why when it cannot be drawn. */
async function heatmapPanel(
  options: ReportRunOptions,
  found: { teacher?: string; student?: string; model?: string },
  notes: string[],
): Promise<ReportImage[]> {
  if (!options.dataset) {
    notes.push(`no Grad-CAM panel: ${options.datasetProblem ?? "the run's dataset is not available"}.`);
    return [];
  }
  const owned: ReidModel[] = [];
  const load = async (given: ReidModel | undefined, directory: string | undefined) => {
    if (given) return given;
    if (!directory) return undefined;
    const model = await loadReidModel(directory);
    owned.push(model);
    return model;
  };
  try {
    const candidates = [
      { title: 'teacher', model: await load(options.teacher, found.teacher) },
      { title: 'student (VKD)', model: await load(options.student, found.student) },
      { title: 'model', model: await load(undefined, found.model) },
    ];
    const models = candidates.filter(
      (entry): entry is { title: string; model: ReidModel } => entry.model !== undefined,
    );
    if (models.length === 0) {
      notes.push('no Grad-CAM panel: no model of this run was found (see above).');
      return [];
    }
    const recorded = modelMetadata(models[0]!.model)?.input;
    const imageSize = recorded ? ([recorded.height, recorded.width] as const) : options.imageSize;
    if (!imageSize) {
      notes.push('no Grad-CAM panel: neither the model nor metrics.json records the input size.');
      return [];
    }
    const file = 'heatmaps.png';
    const { headError, queries } = await writeHeatmaps(
      models,
      options.dataset,
      imageSize,
      options.heatmaps,
      join(options.outDirectory, file),
    );
    const titles = models.map((entry) => entry.title);
    const where = titles.length > 1 ? `where the ${titles.join(' and the ')} look` : `where the ${titles[0]} looks`;
    return [
      {
        file,
        caption: `Grad-CAM of the top identity logit on the last-stage feature maps, first frame of ${queries} query tracklets (one row each): ${where}. Head reconstruction error ${headError.toExponential(1)}.`,
      },
    ];
  } finally {
    for (const model of owned) model.dispose();
  }
}
