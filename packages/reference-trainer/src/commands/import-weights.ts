import { stat } from 'node:fs/promises';
import { InvalidOptionError } from '@vkd/core';
import { createReidModel, importTorchWeights, saveReidModel, type ImportReport } from '@vkd/models';
import type { CommandDefinition } from '../cli/command';
import { GENERAL_OPTIONS, MODEL_OPTIONS } from '../config/option-groups';
import { modelSettings } from '../config/stage-settings';
import { requireOption } from '../options/resolve-options';
import { activateDevice } from '../run/activate-device';
import { createRunLog, displayPath } from '../run/run-log';

/** Counts of each key group of an import report, naming the keys of the short groups. */
export function formatImportReport(report: ImportReport): string {
  const group = (title: string, names: readonly string[]) =>
    `${title.padEnd(10)} ${names.length}${names.length > 0 && names.length <= 6 ? `: ${names.join(', ')}` : ''}`;
  return [
    `imported ${report.source} (${report.format})`,
    group('loaded', report.loaded),
    group('missing', report.missing),
    group('unexpected', report.unexpected),
    group('ignored', report.ignored),
    group('untouched', report.untouched),
  ].join('\n');
}

/** `vkd import-weights`: converts PyTorch weights (the authors' checkpoints, torchvision ImageNet) into a model directory. */
export const importWeightsCommand: CommandDefinition = {
  name: 'import-weights',
  summary: 'convert PyTorch weights (VKD checkpoints, torchvision/timm ImageNet ResNets) into a vkd model directory',
  usage: '--source FILE --format vkd|torchvision|timm --backbone NAME --out DIR [--num-identities N]',
  details: [
    'Loads the weights into a model of the given architecture (transposing OIHW → HWIO and [out,in] → [in,out]),',
    'reports missing and unexpected keys, and saves the model (safetensors + JSON config) to OUT. Use --format vkd for',
    'the authors\' chk_end / chk_di_1 state_dicts (--num-identities 625 for MARS, 702 Duke, 576 VeRi), torchvision or',
    'timm for ImageNet backbones (e.g. for distill --imagenet-weights).',
  ].join('\n'),
  examples: [
    'vkd import-weights --source chk_end.safetensors --format vkd --backbone resnet50 --num-identities 625 --out models/mars-r50-teacher',
    'vkd import-weights --source resnet50-imagenet.safetensors --format torchvision --backbone resnet50 --out models/r50-imagenet --allow-missing',
  ],
  options: [
    ...GENERAL_OPTIONS,
    { key: 'out', alias: 'o', kind: 'path', placeholder: 'dir', description: 'model directory to write' },
    { key: 'source', kind: 'path', placeholder: 'file', description: 'weights file (safetensors or a PyTorch state_dict as the models package reads it)' },
    { key: 'format', kind: 'choice', choices: ['vkd', 'torchvision', 'timm'], default: 'vkd', description: 'key naming of the source' },
    ...MODEL_OPTIONS,
    { key: 'numIdentities', kind: 'integer', min: 1, max: 1_000_000, default: 1, description: 'classifier size (training identities of the checkpoint)' },
    { key: 'allowMissing', kind: 'boolean', default: false, description: 'accept model weights absent from the source (e.g. the head of an ImageNet backbone)' },
    { key: 'allowUnexpected', kind: 'boolean', default: false, description: 'ignore source weights the model does not have (e.g. the ImageNet fc layer)' },
  ],
  async run({ options, io }) {
    const log = createRunLog(io, options.quiet as boolean);
    const source = requireOption<string>(options, 'source', '--source', 'pass the PyTorch weights file to import, e.g. --source chk_end.safetensors.');
    const out = requireOption<string>(options, 'out', '--out', 'pass the model directory to write, e.g. --out models/teacher.');
    const model = modelSettings(options);
    // The source first: a mistyped --source fails at once, before the backend is probed.
    const info = await stat(source).catch(() => undefined);
    if (!info?.isFile()) throw new InvalidOptionError('--source', source, `${info ? 'This is a directory, not a file' : 'No such file'}; give the weights file to import (.safetensors).`);
    await activateDevice(options.device as string, log, options.threads as number | undefined);
    const reid = createReidModel({ ...model, numIdentities: options.numIdentities as number, seed: options.seed as number });
    try {
      const report = await importTorchWeights(reid, source, {
        format: options.format as 'vkd' | 'torchvision' | 'timm',
        allowMissing: options.allowMissing as boolean,
        allowUnexpected: options.allowUnexpected as boolean,
      });
      await saveReidModel(reid, out);
      log.result(formatImportReport(report));
      log.result(`model: ${displayPath(io.cwd, out)}`);
      return 0;
    } finally {
      reid.dispose();
    }
  },
};
