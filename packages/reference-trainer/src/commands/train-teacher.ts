import { join } from 'node:path';
import { createReidModel, loadReidModel, setModelMetadata, type ReidModel } from '@vkd/models';
import { startFromImagenet } from '@vkd/trainer';
import type { CommandDefinition } from '../cli/command';
import {
  DATA_OPTIONS,
  GENERAL_OPTIONS,
  LOADER_OPTIONS,
  MODEL_OPTIONS,
  OUTPUT_OPTIONS,
  TEACHER_OPTIONS,
  TRAINING_OPTIONS,
} from '../config/option-groups';
import { dataSettings, modelSettings, teacherSettings } from '../config/stage-settings';
import { requireOption } from '../options/resolve-options';
import { formatModelTable } from '../report/comparison-table';
import { activateDevice } from '../run/activate-device';
import { evaluateRun } from '../run/evaluate-run';
import { evaluationHook } from '../run/evaluation-hook';
import { findModelDirectory } from '../run/find-model-directory';
import { checkBatchMemory } from '../run/memory-preflight';
import { RUN_FILES, writeMetrics } from '../run/run-files';
import { loadRunDataset } from '../run/load-run-dataset';
import { createRunLog, displayPath, type RunLog } from '../run/run-log';
import { trainedModelMetadata } from '../run/model-input';
import { openRunDirectory, runDirectoryMode } from '../run/run-directory';
import { STAGE_FILES, trainTeacher } from '../run/train-stage';

/** `vkd train-teacher`: the teacher stage (`tools/train_v2v.py`). */
export const trainTeacherCommand: CommandDefinition = {
  name: 'train-teacher',
  summary: 'train the multi-view teacher (CE + triplet on N-frame tracklets)',
  usage: '--dataset NAME --root DIR --out DIR [--preset NAME] [--config FILE] [options]',
  details: [
    'Trains a ReID network on N frames per tracklet with cross-entropy + batch-hard soft-margin triplet, Adam with L2',
    "weight decay and a multi-step LR schedule. Unset options take the authors' values for the dataset and backbone.",
    '--imagenet-weights DIR starts the whole backbone from an ImageNet model directory (BAM and the head stay freshly',
    "initialised, as the authors'); the authors' presets require it (--imagenet-weights none trains from scratch).",
    'OUT must be empty (--resume continues the run there; --force replaces what earlier vkd runs wrote there, listed in',
    'OUT/vkd-run.json, and keeps every other file); a lock stops a second command writing there at the same time.',
    'Writes OUT/{log.jsonl, checkpoints/, model/, settings.json, metrics.json}.',
  ].join('\n'),
  examples: [
    'vkd train-teacher --preset mars-resnet50 --root ./datasets/mars --imagenet-weights models/resnet50-imagenet --out runs/mars-teacher',
    'vkd train-teacher --config teacher.yaml --epochs 10 --device wasm',
  ],
  stage: 'teacher',
  options: [
    ...GENERAL_OPTIONS,
    ...OUTPUT_OPTIONS,
    ...DATA_OPTIONS,
    ...LOADER_OPTIONS,
    ...MODEL_OPTIONS,
    ...TRAINING_OPTIONS,
    ...TEACHER_OPTIONS,
  ],
  async run({ options, io }) {
    const log = createRunLog(io, options.quiet as boolean);
    const out = requireOption<string>(
      options,
      'out',
      '--out',
      'pass the run directory to write checkpoints, logs and the model to, e.g. --out runs/teacher.',
    );
    const data = dataSettings(options);
    const model = modelSettings(options);
    const training = teacherSettings(options);
    // The dataset first: a mistyped --root fails at once, before the backend is probed.
    const dataset = await loadRunDataset(data.dataset, data.root, data);
    const start = training.imagenetStart;
    const imagenetPath =
      start.kind === 'imagenet' ? await findModelDirectory(start.directory, '--imagenet-weights') : undefined;
    const run = await openRunDirectory(out, {
      mode: runDirectoryMode(training.resume, options.force === true),
      command: 'vkd train-teacher',
      writes: [...Object.values(STAGE_FILES), RUN_FILES.metrics],
      onWarning: (text) => log.warn(text),
    });
    try {
      const device = await activateDevice(options.device as string, log, options.threads as number | undefined);
      log.info(
        `train-teacher: ${dataset.name}, ${dataset.train.length} train tracklets, ${dataset.numTrainIdentities} identities; ${model.backbone} ${data.height}×${data.width}, ${training.epochs} epochs`,
      );
      const teacher = createReidModel({ ...model, numIdentities: dataset.numTrainIdentities, seed: data.seed });
      setModelMetadata(
        teacher,
        trainedModelMetadata(data, {
          stage: 'teacher',
          dataset: data.dataset,
          numIdentities: dataset.numTrainIdentities,
          framesPerTracklet: training.framesPerTracklet,
        }),
      );
      try {
        await initialiseTeacher(teacher, imagenetPath, start.kind === 'scratch' && start.explicit, log);
        const memory = await checkBatchMemory(teacher, data, { training }, log);
        const hooks =
          training.evalEvery > 0 ? [evaluationHook(teacher, dataset, data, training.evalEvery, log, 'teacher')] : [];
        const stage = await trainTeacher(teacher, dataset, data, training, run, out, log, hooks);
        const metrics = await evaluateRun(teacher, dataset, data, log, 'teacher');
        await writeMetrics(join(out, RUN_FILES.metrics), {
          teacher: metrics,
          settings: {
            command: 'train-teacher',
            backend: device.backend,
            dataset: { name: data.dataset, root: data.root },
            data,
            model,
            teacher: training,
            memory,
            seconds: { teacher: stage.seconds },
          },
        });
        await run.record(RUN_FILES.metrics);
        log.result(formatModelTable(metrics));
        log.result(`model: ${displayPath(io.cwd, stage.modelDirectory)}`);
        return 0;
      } finally {
        teacher.dispose();
      }
    } finally {
      await run.close();
    }
  },
};

/** The teacher's start: the backbone from ImageNet (the authors'), or from scratch, said once in the log. */
async function initialiseTeacher(
  teacher: ReidModel,
  imagenetPath: string | undefined,
  explicit: boolean,
  log: RunLog,
): Promise<void> {
  if (!imagenetPath) {
    log.info(
      `train-teacher: backbone from scratch (${explicit ? '--imagenet-weights none' : 'no --imagenet-weights'}; the authors start from ImageNet)`,
    );
    return;
  }
  const imagenet = await loadReidModel(imagenetPath);
  try {
    const report = startFromImagenet(teacher, imagenet, '--imagenet-weights');
    const bam = report.fresh.some((name) => name.includes('.bam.')) ? ' and BAM' : '';
    log.info(
      `train-teacher: backbone from ImageNet (${imagenetPath}): ${report.loaded.length} weights; head${bam} fresh`,
    );
  } finally {
    imagenet.dispose();
  }
}
