import { join } from 'node:path';
import { loadReidModel } from '@vkd/models';
import type { CommandDefinition } from '../cli/command';
import { DATA_OPTIONS, GENERAL_OPTIONS, OUTPUT_OPTIONS } from '../config/option-groups';
import { dataSettings } from '../config/stage-settings';
import { requireOption } from '../options/resolve-options';
import { formatModelTable, formatPerCamera } from '../report/comparison-table';
import { activateDevice } from '../run/activate-device';
import { evaluateRun } from '../run/evaluate-run';
import { findModelDirectory } from '../run/find-model-directory';
import { modelInputSize, readModelMetadata } from '../run/model-input';
import { RUN_FILES, writeMetrics } from '../run/run-files';
import { loadRunDataset } from '../run/load-run-dataset';
import { createRunLog, displayPath } from '../run/run-log';

/** `vkd evaluate`: retrieval metrics of a saved model (VKD protocols). */
export const evaluateCommand: CommandDefinition = {
  name: 'evaluate',
  summary: 'evaluate a saved model: I2V and V2V rank-k, mAP, mINP, CMC, gallery-frames sweep, per-camera accuracy',
  usage: '--model DIR --dataset NAME --root DIR [--out DIR]',
  details: [
    'Cosine distance between pre-BNNeck set embeddings (mean over chunk-first frames), same-identity-same-camera',
    'gallery items junked, trapezoid mAP as the official MARS code. With --out writes OUT/metrics.json.',
  ].join('\n'),
  examples: ['vkd evaluate --model runs/mars-student --preset mars-resnet50 --root ./datasets/mars --out runs/mars-student/eval'],
  stage: 'evaluate',
  options: [
    ...GENERAL_OPTIONS,
    ...OUTPUT_OPTIONS,
    ...DATA_OPTIONS,
    { key: 'model', kind: 'path', placeholder: 'dir', description: 'model directory, or a run directory holding model/' },
    { key: 'galleryFrames', kind: 'integer-list', min: 1, default: [1, 2, 4, 8], description: 'gallery-frames sweep (paper Fig. 3); empty to skip' },
  ],
  async run({ options, io, explicit }) {
    const log = createRunLog(io, options.quiet as boolean);
    const modelDirectory = requireOption<string>(options, 'model', '--model', 'pass the model directory (or a run directory holding model/) to evaluate, e.g. --model runs/student.');
    // The user's paths first: a mistyped --root or --model fails at once, before the backend is probed.
    const given = dataSettings(options);
    const dataset = await loadRunDataset(given.dataset, given.root, given);
    const modelPath = await findModelDirectory(modelDirectory, '--model');
    const data = modelInputSize(given, options, explicit, await readModelMetadata(modelPath), '--model', log);
    const device = await activateDevice(options.device as string, log, options.threads as number | undefined);
    const model = await loadReidModel(modelPath);
    try {
      const metrics = await evaluateRun(model, dataset, data, log, 'model', options.galleryFrames as readonly number[]);
      log.result(formatModelTable(metrics));
      if (metrics.perCamera?.length) log.result(formatPerCamera(metrics));
      if (options.out) {
        const path = join(options.out as string, RUN_FILES.metrics);
        await writeMetrics(path, { model: metrics, settings: { command: 'evaluate', backend: device.backend, dataset: { name: data.dataset, root: data.root }, data, modelDirectory } });
        log.result(`metrics: ${displayPath(io.cwd, path)}`);
      }
      return 0;
    } finally {
      model.dispose();
    }
  },
};
