import { stat } from 'node:fs/promises';
import { InvalidOptionError } from '@vkd/core';
import {
  AUTHORS_DEFAULT_CHECKPOINT,
  createReidModel,
  importAuthorsRun,
  importTorchWeights,
  readAuthorsRunFolder,
  saveReidModel,
  type AuthorsRunFolder,
  type ImportReport,
  type ReidModel,
} from '@vkd/models';
import type { CommandDefinition } from '../cli/command';
import { GENERAL_OPTIONS, MODEL_OPTIONS } from '../config/option-groups';
import { modelSettings } from '../config/stage-settings';
import type { OptionValue, OptionValues } from '../options/option-spec';
import { requireOption } from '../options/resolve-options';
import { activateDevice } from '../run/activate-device';
import { createRunLog, displayPath, type RunLog } from '../run/run-log';

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
  usage:
    '--source RUN_DIR [--checkpoint NAME] --out DIR | --source FILE --format vkd|torchvision|timm --backbone NAME --out DIR [--num-identities N]',
  details: [
    'Loads the weights into a model of the given architecture (transposing OIHW → HWIO and [out,in] → [in,out]),',
    'reports missing and unexpected keys, and saves the model (safetensors + JSON config) to OUT. FILE is a PyTorch',
    'file (.pth/.pt/bare torch.save, zip or legacy format, read without Python; only tensors and containers are',
    "unpickled) or safetensors. RUN_DIR is one of the authors' run folders as released (chk/ and params/hparams.json):",
    'backbone and classifier size come from hparams.json, the checkpoint from chk/ (--checkpoint, default',
    `${AUTHORS_DEFAULT_CHECKPOINT}). For a single file use --format vkd for the authors' chk_end / chk_di_1 state_dicts`,
    '(--num-identities 625 for MARS, 702 Duke, 576 VeRi), torchvision or timm for ImageNet backbones (e.g. for',
    '--imagenet-weights).',
  ].join('\n'),
  examples: [
    'vkd import-weights --source base_mars_resnet50 --out models/teacher',
    'vkd import-weights --source base_mars_resnet50 --checkpoint chk_di_1 --out models/student',
    'vkd import-weights --source chk_end --format vkd --backbone resnet50 --num-identities 625 --out models/mars-r50-teacher',
    'vkd import-weights --source resnet50-0676ba61.pth --format torchvision --backbone resnet50 --out models/r50-imagenet',
  ],
  options: [
    ...GENERAL_OPTIONS,
    { key: 'out', alias: 'o', kind: 'path', placeholder: 'dir', description: 'model directory to write' },
    {
      key: 'source',
      kind: 'path',
      placeholder: 'file|dir',
      description:
        "weights file (.pth/.pt/torch.save file or safetensors), or an authors' run folder (chk/, params/hparams.json)",
    },
    {
      key: 'checkpoint',
      kind: 'string',
      placeholder: 'name',
      description: `checkpoint of a run folder's chk/ (default ${AUTHORS_DEFAULT_CHECKPOINT}; e.g. chk_di_1)`,
    },
    {
      key: 'format',
      kind: 'choice',
      choices: ['vkd', 'torchvision', 'timm'],
      default: 'vkd',
      description: 'key naming of the source',
    },
    ...MODEL_OPTIONS,
    {
      key: 'numIdentities',
      kind: 'integer',
      min: 1,
      max: 1_000_000,
      default: 1,
      description: 'classifier size (training identities of the checkpoint)',
    },
    {
      key: 'allowMissing',
      kind: 'boolean',
      default: false,
      description: 'accept model weights absent from the source (e.g. the head of an ImageNet backbone)',
    },
    {
      key: 'allowUnexpected',
      kind: 'boolean',
      default: false,
      description: 'ignore source weights the model does not have (e.g. the ImageNet fc layer)',
    },
  ],
  async run({ options, io }) {
    const log = createRunLog(io, options.quiet as boolean);
    const source = requireOption<string>(
      options,
      'source',
      '--source',
      'pass the PyTorch weights file or run folder to import, e.g. --source chk_end.pth.',
    );
    const out = requireOption<string>(
      options,
      'out',
      '--out',
      'pass the model directory to write, e.g. --out models/teacher.',
    );
    const model = modelSettings(options);
    // The source first: a mistyped --source fails at once, before the backend is probed.
    const info = await stat(source).catch(() => undefined);
    if (!info)
      throw new InvalidOptionError(
        '--source',
        source,
        "No such file or folder; give the weights file (.pth, .pt, .safetensors) or the authors' run folder to import.",
      );
    if (info.isDirectory()) return importRunFolder(source, out, options, log, io.cwd);
    if (options.checkpoint !== undefined) {
      throw new InvalidOptionError(
        '--checkpoint',
        options.checkpoint,
        'Only for a run folder (--source RUN_DIR with chk/); with a file --source, that file is the checkpoint.',
      );
    }
    await activateDevice(options.device as string, log, options.threads as number | undefined);
    const reid = createReidModel({
      ...model,
      numIdentities: options.numIdentities as number,
      seed: options.seed as number,
    });
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

/**
 * Options a run folder decides (hparams.json and the checkpoint): a value that is neither the option's default nor
 * what the folder says was asked for explicitly and contradicts the folder, so it is refused rather than dropped.
 */
function checkRunFolderOptions(run: AuthorsRunFolder, options: OptionValues, baseWidth?: number): void {
  const decided: Array<[string, string, OptionValue | undefined, OptionValue | undefined]> = [
    ['baseWidth', '--base-width', options.baseWidth, baseWidth],
    ['backbone', '--backbone', options.backbone, run.backbone],
    ['attention', '--attention', options.attention, run.attention],
    ['numIdentities', '--num-identities', options.numIdentities, run.numIdentities],
    ['format', '--format', options.format, 'vkd'],
  ];
  for (const [key, flag, value, fromFolder] of decided) {
    const fallback = importWeightsCommand.options.find((spec) => spec.key === key)?.default;
    if (value !== undefined && fromFolder !== undefined && value !== fallback && value !== fromFolder) {
      throw new InvalidOptionError(
        flag,
        value,
        `The run folder gives ${JSON.stringify(fromFolder)} (${key === 'baseWidth' ? run.checkpointPath : run.hparamsPath}); drop ${flag}, or import the checkpoint file itself (--source ${run.checkpointPath}).`,
      );
    }
  }
}

async function importRunFolder(
  folder: string,
  out: string,
  options: OptionValues,
  log: RunLog,
  cwd: string,
): Promise<number> {
  const checkpoint = (options.checkpoint as string | undefined) ?? AUTHORS_DEFAULT_CHECKPOINT;
  const run = await readAuthorsRunFolder(folder, checkpoint);
  checkRunFolderOptions(run, options);
  await activateDevice(options.device as string, log, options.threads as number | undefined);
  let reid: ReidModel | undefined;
  try {
    const imported = await importAuthorsRun(folder, {
      checkpoint,
      seed: options.seed as number,
      allowMissing: options.allowMissing as boolean,
      allowUnexpected: options.allowUnexpected as boolean,
    });
    reid = imported.model;
    checkRunFolderOptions(run, options, reid.config.baseWidth);
    await saveReidModel(reid, out);
    const { backbone, attention, baseWidth, numIdentities } = reid.config;
    log.result(
      `run folder ${displayPath(cwd, folder)}: backbone_type ${run.backboneType} → --backbone ${backbone}${attention === 'none' ? '' : ` --attention ${attention}`}, ` +
        `${numIdentities} identities (params/hparams.json), base width ${baseWidth} (from the checkpoint), checkpoint chk/${checkpoint}`,
    );
    log.result(formatImportReport(imported.report));
    log.result(`model: ${displayPath(cwd, out)}`);
    return 0;
  } finally {
    reid?.dispose();
  }
}
