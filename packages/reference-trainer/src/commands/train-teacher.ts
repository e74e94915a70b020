import { join } from 'node:path';
import { createReidModel } from '@vkd/models';
import type { CommandDefinition } from '../cli/command';
import { DATA_OPTIONS, GENERAL_OPTIONS, MODEL_OPTIONS, OUTPUT_OPTIONS, TRAINING_OPTIONS } from '../config/option-groups';
import { dataSettings, modelSettings, teacherSettings } from '../config/stage-settings';
import { requireOption } from '../options/resolve-options';
import { formatModelTable } from '../report/comparison-table';
import { activateDevice } from '../run/activate-device';
import { evaluateRun } from '../run/evaluate-run';
import { evaluationHook } from '../run/evaluation-hook';
import { RUN_FILES, writeMetrics } from '../run/run-files';
import { loadRunDataset } from '../run/load-run-dataset';
import { createRunLog, displayPath } from '../run/run-log';
import { openRunDirectory, runDirectoryMode } from '../run/run-directory';
import { STAGE_FILES, trainTeacher } from '../run/train-stage';

/** `vkd train-teacher`: the teacher stage (`tools/train_v2v.py`). */
export const trainTeacherCommand: CommandDefinition = {
  name: 'train-teacher',
  summary: 'train the multi-view teacher (CE + triplet on N-frame tracklets)',
  usage: '--dataset NAME --root DIR --out DIR [--preset NAME] [--config FILE] [options]',
  details: [
    'Trains a ReID network on N frames per tracklet with cross-entropy + batch-hard soft-margin triplet, Adam with L2',
    'weight decay and a multi-step LR schedule. Unset options take the authors\' values for the dataset and backbone.',
    'OUT must be empty (--resume continues the run there; --force replaces what earlier vkd runs wrote there, listed in',
    'OUT/vkd-run.json, and keeps every other file); a lock stops a second command writing there at the same time.',
    'Writes OUT/{log.jsonl, checkpoints/, model/, settings.json, metrics.json}.',
  ].join('\n'),
  examples: [
    'vkd train-teacher --preset mars-resnet50 --root ./datasets/mars --out runs/mars-teacher',
    'vkd train-teacher --config teacher.yaml --epochs 10 --device wasm',
  ],
  stage: 'teacher',
  options: [...GENERAL_OPTIONS, ...OUTPUT_OPTIONS, ...DATA_OPTIONS, ...MODEL_OPTIONS, ...TRAINING_OPTIONS],
  async run({ options, io }) {
    const log = createRunLog(io, options.quiet as boolean);
    const out = requireOption<string>(options, 'out', '--out', 'pass the run directory to write checkpoints, logs and the model to, e.g. --out runs/teacher.');
    const data = dataSettings(options);
    const model = modelSettings(options);
    const training = teacherSettings(options);
    // The dataset first: a mistyped --root fails at once, before the backend is probed.
    const dataset = await loadRunDataset(data.dataset, data.root, data);
    const run = await openRunDirectory(out, {
      mode: runDirectoryMode(training.resume, options.force === true),
      command: 'vkd train-teacher',
      writes: [...Object.values(STAGE_FILES), RUN_FILES.metrics],
      onWarning: (text) => log.warn(text),
    });
    try {
      return await trainInRun();
    } finally {
      await run.close();
    }
    async function trainInRun(): Promise<number> {
    const device = await activateDevice(options.device as string, log, options.threads as number | undefined);
    log.info(`train-teacher: ${dataset.name}, ${dataset.train.length} train tracklets, ${dataset.numTrainIdentities} identities; ${model.backbone} ${data.height}×${data.width}, ${training.epochs} epochs`);
    const teacher = createReidModel({ ...model, numIdentities: dataset.numTrainIdentities, seed: data.seed });
    try {
      const hooks = training.evalEvery > 0 ? [evaluationHook(teacher, dataset, data, training.evalEvery, log, 'teacher')] : [];
      const stage = await trainTeacher(teacher, dataset, data, training, run, out, log, hooks);
      const metrics = await evaluateRun(teacher, dataset, data, log, 'teacher');
      await writeMetrics(join(out, RUN_FILES.metrics), { teacher: metrics, settings: { command: 'train-teacher', backend: device.backend, dataset: { name: data.dataset, root: data.root }, data, model, teacher: training, seconds: { teacher: stage.seconds } } });
      await run.record(RUN_FILES.metrics);
      log.result(formatModelTable(metrics));
      log.result(`model: ${displayPath(io.cwd, stage.modelDirectory)}`);
      return 0;
    } finally {
      teacher.dispose();
    }
    }
  },
};
