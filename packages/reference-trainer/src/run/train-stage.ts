import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CheckpointError, InvalidOptionError } from '@vkd/core';
import type { ReidDataset } from '@vkd/datasets';
import { createTrackletLoader, type TrackletBatch } from '@vkd/datasets/node';
import { saveReidModel, type ReidModel } from '@vkd/models';
import {
  adamWithL2,
  checkpointHook,
  createTrainer,
  createTrainingData,
  distillStep,
  jsonlLogHook,
  learningRateHook,
  multiStepLr,
  readCheckpointIndex,
  restoreCheckpoint,
  teacherStep,
  type FitResult,
  type TrainerHooks,
  type TrainingStep,
} from '@vkd/trainer';
import type { DataSettings, DistillSettings, TrainingSettings } from '../config/stage-settings';
import { progressHook } from './progress-hook';
import type { RunLog } from './run-log';

/** Files a training stage writes under its output directory. */
export const STAGE_FILES = { log: 'log.jsonl', checkpoints: 'checkpoints', model: 'model', settings: 'settings.json' } as const;

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
export function checkBatchFitsDataset(dataset: ReidDataset, training: Pick<TrainingSettings, 'identitiesPerBatch'>): void {
  const identities = new Set(dataset.train.map((tracklet) => tracklet.identity)).size;
  if (training.identitiesPerBatch > identities) {
    throw new InvalidOptionError(
      '--identities-per-batch',
      training.identitiesPerBatch,
      `The training split of ${dataset.name} has only ${identities} identities; use --identities-per-batch ${identities} or less (or a larger data set).`,
    );
  }
}

/** Runs one stage with the standard hooks: LR schedule, progress, JSONL log, checkpoints; saves the final model. */
async function fitStage(
  step: TrainingStep<TrackletBatch>,
  model: ReidModel,
  dataset: ReidDataset,
  data: DataSettings,
  training: TrainingSettings,
  strategy: 'chunk' | 'multiview',
  directory: string,
  log: RunLog,
  label: string,
  extraHooks: readonly TrainerHooks<TrackletBatch>[] = [],
): Promise<StageResult> {
  checkBatchFitsDataset(dataset, training);
  await mkdir(directory, { recursive: true });
  await writeFile(join(directory, STAGE_FILES.settings), `${JSON.stringify({ stage: label, data, training }, null, 2)}\n`);
  const epochData = createTrainingData({
    loader: createTrackletLoader,
    tracklets: dataset.train,
    identitiesPerBatch: training.identitiesPerBatch,
    instancesPerIdentity: training.instancesPerIdentity,
    framesPerTracklet: training.framesPerTracklet,
    strategy,
    imageSize: [data.height, data.width],
    augment: training.augment,
    seed: data.seed,
  });
  const trainer = createTrainer({
    step,
    hooks: [
      learningRateHook(multiStepLr({ baseLearningRate: training.learningRate, milestones: [...training.milestones], gamma: training.gamma })),
      progressHook(log, label, epochData.batchesPerEpoch),
      ...extraHooks,
      jsonlLogHook({ path: join(directory, STAGE_FILES.log) }),
      // The best checkpoint is chosen by I2V mAP when an evaluation hook (--eval-every) records it.
      checkpointHook({ directory: join(directory, STAGE_FILES.checkpoints), every: training.saveEvery, keepLast: training.keepLast, best: { metric: 'i2v.mAP' } }),
    ],
  });
  const started = performance.now();
  let start = { startEpoch: 0, globalStep: 0 };
  if (training.resume) {
    const checkpoints = join(directory, STAGE_FILES.checkpoints);
    const index = await readCheckpointIndex(checkpoints);
    if (!index?.latest) throw new CheckpointError(checkpoints, 'has no checkpoint to resume from (checkpoints.json missing or empty); run without --resume.');
    const restored = await restoreCheckpoint(join(checkpoints, index.latest), { step, data: epochData });
    start = { startEpoch: restored.nextEpoch, globalStep: restored.globalStep };
    log.info(`${label}: resumed from ${restored.path} (next epoch ${restored.nextEpoch + 1})`);
  }
  const fit = await trainer.fit(epochData, { epochs: training.epochs, ...start });
  const modelDirectory = join(directory, STAGE_FILES.model);
  await saveReidModel(model, modelDirectory);
  return { fit, seconds: (performance.now() - started) / 1000, modelDirectory };
}

/**
 * Teacher stage (`tools/train_v2v.py`): CE + triplet on N-frame tracklets, Adam with L2, multi-step LR.
 * Writes `log.jsonl`, `checkpoints/`, `model/` and `settings.json` under `directory`.
 */
export async function trainTeacher(
  model: ReidModel,
  dataset: ReidDataset,
  data: DataSettings,
  training: TrainingSettings,
  directory: string,
  log: RunLog,
  extraHooks: readonly TrainerHooks<TrackletBatch>[] = [],
): Promise<StageResult> {
  const optimizer = adamWithL2({ learningRate: training.learningRate, weightDecay: training.weightDecay });
  try {
    return await fitStage(teacherStep({ model, optimizer }), model, dataset, data, training, 'chunk', directory, log, 'teacher', extraHooks);
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
    weights: { kd: training.kdWeight, dp: training.dpWeight, temperature: training.temperature },
  });
  try {
    return await fitStage(step, student, dataset, data, training, 'multiview', directory, log, label, extraHooks);
  } finally {
    optimizer.dispose();
  }
}
