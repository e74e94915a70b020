import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidOptionError } from '@vkd/core';
import { findDatasetEntry, type ReidDataset } from '@vkd/datasets';
import { createTrackletLoader, type TrackletBatch } from '@vkd/datasets/node';
import { saveReidModel, type ReidModel } from '@vkd/models';
import {
  adamWithL2,
  CHECKPOINT_FILES,
  CHECKPOINT_INDEX,
  checkpointHook,
  checkpointName,
  divergenceHook,
  createTrainer,
  createTrainingData,
  distillStep,
  jsonlLogHook,
  learningRateHook,
  multiStepLr,
  readCheckpointIndex,
  repairTrainingLog,
  restoreCheckpoint,
  teacherStep,
  type FitResult,
  type TrainerHooks,
  type TrainingLoader,
  type TrainingStep,
} from '@vkd/trainer';
import {
  frameStrategyOf,
  type DataSettings,
  type DistillSettings,
  type LoaderSettings,
  type TrainingSettings,
} from '../config/stage-settings';
import { BEST_CHECKPOINT_METRIC } from './evaluation-hook';
import { progressHook } from './progress-hook';
import { tensorboardHook } from './tensorboard-hook';
import {
  checkpointToResume,
  checkResumeSettings,
  readStageSettings,
  type RecordedStageSettings,
} from './resume-settings';
import type { RunDirectory } from './run-directory';
import type { RunLog } from './run-log';

/** Files a training stage writes under its output directory. */
export const STAGE_FILES = {
  log: 'log.jsonl',
  checkpoints: 'checkpoints',
  model: 'model',
  settings: 'settings.json',
} as const;

/** What a finished stage reports. */
export interface StageResult {
  readonly fit: FitResult;
  readonly seconds: number;
  /** Directory of the final model (`saveReidModel`). */
  readonly modelDirectory: string;
}

/**
 * Fails before any work when a P×K batch cannot be drawn from the training split, naming the flag to change.
 * @throws InvalidOptionError (`--identities-per-batch`) when the split has fewer than P identities.
 */
export function checkBatchFitsDataset(
  dataset: ReidDataset,
  training: Pick<TrainingSettings, 'identitiesPerBatch'>,
): void {
  const identities = new Set(dataset.train.map((tracklet) => tracklet.identity)).size;
  if (training.identitiesPerBatch > identities) {
    throw new InvalidOptionError(
      '--identities-per-batch',
      training.identitiesPerBatch,
      `The training split of ${dataset.name} has only ${identities} identities; use --identities-per-batch ${identities} or less (or a larger data set).`,
    );
  }
}

/**
 * The line a training stage starts with: P, K, N (and the student's M), tracklets and frames per step, steps per
 * epoch and in all, input size: what decides how long a step takes.
 */
export function stageStartLine(
  label: string,
  dataset: ReidDataset,
  data: Pick<DataSettings, 'height' | 'width'>,
  training: TrainingSettings | DistillSettings,
  stepsPerEpoch: number,
): string {
  const tracklets = training.identitiesPerBatch * training.instancesPerIdentity;
  const frames = tracklets * training.framesPerTracklet;
  const student =
    'studentFrames' in training
      ? `, student M=${training.studentFrames} (${tracklets * training.studentFrames} frames)`
      : '';
  return (
    `${label}: P=${training.identitiesPerBatch} identities × K=${training.instancesPerIdentity} tracklets × N=${training.framesPerTracklet} frames ` +
    `= ${frames} frames of ${data.height}×${data.width} per step${student}; ${stepsPerEpoch} steps per epoch ` +
    `(${new Set(dataset.train.map((tracklet) => tracklet.identity)).size} training identities / P), ` +
    `${training.epochs} epochs = ${stepsPerEpoch * training.epochs} steps`
  );
}

/** Runs one stage with the standard hooks: LR schedule, progress, JSONL log, checkpoints; saves the final model. */
async function fitStage(
  step: TrainingStep<TrackletBatch>,
  model: ReidModel,
  dataset: ReidDataset,
  data: DataSettings,
  training: TrainingSettings,
  run: RunDirectory,
  directory: string,
  log: RunLog,
  label: string,
  extraHooks: readonly TrainerHooks<TrackletBatch>[] = [],
): Promise<StageResult> {
  checkBatchFitsDataset(dataset, training);
  await mkdir(directory, { recursive: true });
  const settingsPath = join(directory, STAGE_FILES.settings);
  const { resume: _resume, allowChanged: _allowChanged, ...recordedTraining } = training;
  const settings: RecordedStageSettings = {
    stage: label,
    data: { ...data },
    training: recordedTraining,
    model: { ...model.config },
  };
  const checkpoints = join(directory, STAGE_FILES.checkpoints);
  let resumeFrom: { path: string; nextEpoch: number } | undefined;
  let allowedChanges: unknown[] = [];
  let recorded: RecordedStageSettings | undefined;
  if (training.resume) {
    recorded = await readStageSettings(settingsPath, directory);
    allowedChanges = checkResumeSettings(recorded, settings, training.allowChanged);
    for (const change of allowedChanges as { path: string; recorded: unknown; current: unknown }[]) {
      log.warn(
        `${label}: resuming with ${change.path} changed from ${JSON.stringify(change.recorded)} to ${JSON.stringify(change.current)} (--allow-changed)`,
      );
    }
    const resumed = checkpointToResume(await readCheckpointIndex(checkpoints), checkpoints, training.epochs);
    resumeFrom = { path: join(checkpoints, resumed.name), nextEpoch: resumed.nextEpoch };
  }
  const recordedSettings = allowedChanges.length > 0 ? { ...settings, allowedChanges } : settings;
  const logPath = join(directory, STAGE_FILES.log);
  await run.claim(settingsPath, logPath, join(checkpoints, CHECKPOINT_INDEX));
  if (recorded === undefined || JSON.stringify(recorded) !== JSON.stringify(recordedSettings)) {
    await writeFile(settingsPath, `${JSON.stringify(recordedSettings, null, 2)}\n`);
  }
  await run.record(settingsPath);
  // The dataset's random-erasing aspect (VeRi, ATRW: 0.7–1.4; persons: the augmentation's default 0.3–3.3) and resize.
  const epochData = createTrainingData({
    loader: trainingLoaderFor(data.dataset, data),
    tracklets: dataset.train,
    identitiesPerBatch: training.identitiesPerBatch,
    instancesPerIdentity: training.instancesPerIdentity,
    framesPerTracklet: training.framesPerTracklet,
    strategy: frameStrategyOf(training.trainStrategy),
    imageSize: [data.height, data.width],
    augment: training.augment,
    seed: data.seed,
  });
  log.info(stageStartLine(label, dataset, data, training, epochData.batchesPerEpoch));
  const trainer = createTrainer({
    step,
    hooks: [
      learningRateHook(
        multiStepLr({
          baseLearningRate: training.learningRate,
          milestones: [...training.milestones],
          gamma: training.gamma,
        }),
      ),
      progressHook(log, label, epochData.batchesPerEpoch, training.epochs),
      ...extraHooks,
      jsonlLogHook({ path: logPath }),
      ...(training.tensorboard ? [tensorboardHook<TrackletBatch>(training.tensorboard, label, log)] : []),
      divergenceHook(),
      // A checkpoint is listed in the run's manifest before it is written, so a run killed meanwhile still owns it.
      {
        afterEpoch: (context) =>
          run.claim(
            ...Object.values(CHECKPOINT_FILES).map((file) =>
              join(checkpoints, checkpointName(context.epoch + 1), file),
            ),
          ),
      },
      // The best checkpoint is chosen by I2V trapezoid mAP when an evaluation hook (--eval-every) records it.
      checkpointHook({
        directory: checkpoints,
        every: training.saveEvery,
        keepLast: training.keepLast,
        best: { metric: BEST_CHECKPOINT_METRIC },
      }),
      { afterEpoch: () => run.record(directory) },
    ],
  });
  const started = performance.now();
  let start = { startEpoch: 0, globalStep: 0 };
  if (resumeFrom) {
    const restored = await restoreCheckpoint(resumeFrom.path, { step, data: epochData });
    start = { startEpoch: restored.nextEpoch, globalStep: restored.globalStep };
    const repair = await repairTrainingLog(logPath, restored);
    if (repair.tornLine)
      log.warn(`${label}: ${logPath}: cut off a torn last line (the run was interrupted while writing it)`);
    if (repair.damagedLines.length > 0)
      log.warn(
        `${label}: ${logPath}: dropped ${repair.damagedLines.length} damaged lines (lines ${repair.damagedLines.slice(0, 5).join(', ')})`,
      );
    log.info(`${label}: resumed from ${restored.path} (next epoch ${restored.nextEpoch + 1})`);
  }
  let fit: FitResult;
  try {
    fit = await trainer.fit(epochData, { epochs: training.epochs, ...start });
  } finally {
    await run.record(directory);
  }
  const modelDirectory = join(directory, STAGE_FILES.model);
  await saveReidModel(model, modelDirectory);
  await run.record(modelDirectory);
  return { fit, seconds: (performance.now() - started) / 1000, modelDirectory };
}

/**
 * Teacher stage (`tools/train_v2v.py`): CE + triplet on N-frame tracklets, Adam with L2, multi-step LR.
 * Writes `log.jsonl`, `checkpoints/`, `model/` and `settings.json` under `directory` (inside the open `run`, which
 * lists them in its manifest). With `training.resume`, continues from the last good checkpoint there after checking
 * that no result-changing setting differs from the run's `settings.json` (unless `training.allowChanged` names it).
 */
export async function trainTeacher(
  model: ReidModel,
  dataset: ReidDataset,
  data: DataSettings,
  training: TrainingSettings,
  run: RunDirectory,
  directory: string,
  log: RunLog,
  extraHooks: readonly TrainerHooks<TrackletBatch>[] = [],
): Promise<StageResult> {
  const optimizer = adamWithL2({ learningRate: training.learningRate, weightDecay: training.weightDecay });
  try {
    return await fitStage(
      teacherStep({ model, optimizer, recompute: training.recompute }),
      model,
      dataset,
      data,
      training,
      run,
      directory,
      log,
      'teacher',
      extraHooks,
    );
  } finally {
    optimizer.dispose();
  }
}

/**
 * VKD stage (`tools/train_distill.py`): the frozen teacher sees N views, the student an M-subset;
 * CE + triplet + α·KD + β·DP. Writes the same files as `trainTeacher`.
 */
export async function distillStudent(
  teacher: ReidModel,
  student: ReidModel,
  dataset: ReidDataset,
  data: DataSettings,
  training: DistillSettings,
  run: RunDirectory,
  directory: string,
  log: RunLog,
  extraHooks: readonly TrainerHooks<TrackletBatch>[] = [],
  label = 'student',
): Promise<StageResult> {
  const optimizer = adamWithL2({ learningRate: training.learningRate, weightDecay: training.weightDecay });
  const step = distillStep({
    teacher,
    student,
    optimizer,
    studentFrames: training.studentFrames,
    seed: data.seed,
    recompute: training.recompute,
    weights: {
      kdWeight: training.kdWeight,
      dpWeight: training.dpWeight,
      temperature: training.temperature,
      logitsDistance: training.logitsDistance,
    },
  });
  try {
    return await fitStage(step, student, dataset, data, training, run, directory, log, label, extraHooks);
  } finally {
    optimizer.dispose();
  }
}

/**
 * The training loader of a dataset: `createTrackletLoader` with the table's random-erasing aspect (VeRi, ATRW:
 * 0.7–1.4; persons: the augmentation's default 0.3–3.3) and resize (ATRW: letterbox), and `--workers` / `--prefetch`
 * (default: the loader's).
 */
export function trainingLoaderFor(
  datasetName: string,
  loader: Partial<LoaderSettings> = {},
): TrainingLoader<TrackletBatch> {
  const entry = findDatasetEntry(datasetName);
  const erasingAspect = entry?.erasingAspect;
  const resize = entry?.resize;
  return (request) =>
    createTrackletLoader({
      ...request,
      ...(erasingAspect ? { augmentation: { erasing: { aspect: erasingAspect } } } : {}),
      ...(resize ? { resize } : {}),
      ...(loader.workers === undefined ? {} : { workers: loader.workers }),
      ...(loader.prefetch === undefined ? {} : { prefetch: loader.prefetch }),
    });
}
