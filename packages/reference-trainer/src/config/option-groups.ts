import { MAX_SEED } from '@vkd/core';
import { AUTO_BACKEND_ORDER, DEVICES } from '@vkd/backends';
import { datasetNames } from '@vkd/datasets';
import {
  DEFAULT_LOADER_PREFETCH,
  DEFAULT_LOADER_WORKERS,
  MAX_LOADER_PREFETCH,
  MAX_LOADER_WORKERS,
} from '@vkd/datasets/node';
import { ATTENTION_NAMES, backboneChoices, backbonesWithAttention } from '@vkd/models';
import { AUTHORS_SEED, DISTILL_DEFAULTS, TEACHER_DEFAULTS } from '@vkd/trainer';
import type { OptionSpec } from '../options/option-spec';
import { FROM_SCRATCH } from './imagenet-start';
import { presetNames } from './presets';

/**
 * A `choice` option whose choices are read from a registry whenever they are used (help, validation), so a dataset
 * or backbone registered after this module loaded (`registerDataset`, `registerBackbone`) is accepted and listed.
 * (Spreading the returned spec would freeze the choices: `{ ...spec }` reads the getter once.)
 */
export function registryChoice(spec: Omit<OptionSpec, 'kind' | 'choices'>, names: () => readonly string[]): OptionSpec {
  return {
    ...spec,
    kind: 'choice',
    get choices() {
      return names();
    },
  };
}

/** Options every command has. */
export const GENERAL_OPTIONS: readonly OptionSpec[] = [
  {
    key: 'device',
    kind: 'choice',
    choices: DEVICES,
    default: 'auto',
    description: `compute backend; auto tries ${AUTO_BACKEND_ORDER.join(', ')} in order`,
  },
  {
    key: 'config',
    kind: 'path',
    flagOnly: true,
    placeholder: 'file',
    description: 'JSON or YAML file of options (camelCase or kebab-case keys); flags override it',
  },
  {
    key: 'threads',
    kind: 'integer',
    min: 1,
    max: 256,
    placeholder: 'n',
    description:
      'threads of the wasm SIMD kernels (convolutions, BatchNorm sums, pooling gradients); default: all hardware threads',
  },
  { key: 'quiet', kind: 'boolean', default: false, description: 'print only results and errors (no progress bars)' },
  {
    key: 'seed',
    kind: 'integer',
    default: AUTHORS_SEED,
    min: 0,
    max: MAX_SEED,
    description: `random seed (the authors use ${AUTHORS_SEED})`,
  },
];

/** Where results go. */
export const OUTPUT_OPTIONS: readonly OptionSpec[] = [
  { key: 'out', alias: 'o', kind: 'path', placeholder: 'dir', description: 'output directory' },
  {
    key: 'force',
    kind: 'boolean',
    default: false,
    description: 'replace what earlier vkd runs wrote in --out (listed in its vkd-run.json); other files are kept',
  },
];

/** Which data and at what size. */
export const DATA_OPTIONS: readonly OptionSpec[] = [
  {
    key: 'preset',
    kind: 'choice',
    placeholder: 'name',
    get choices() {
      return presetNames();
    },
    get description() {
      return `the authors' settings: ${presetNames().join(', ')}`;
    },
  },
  registryChoice({ key: 'dataset', description: 'dataset loader (@vkd/datasets registry)' }, datasetNames),
  {
    key: 'trackletGrouping',
    kind: 'string',
    placeholder: 'rule',
    description:
      "how the loader forms tracklets, where it offers a choice (duke-video: folder = one per tracklet folder, the default; vkd = the authors' merge of consecutive files of one identity and camera, set by the duke-* presets)",
  },
  { key: 'root', kind: 'path', placeholder: 'dir', description: 'dataset root directory' },
  {
    key: 'skipBadFrames',
    kind: 'boolean',
    default: false,
    description:
      'decode every frame when loading the dataset and leave out corrupt or truncated ones (slow on large sets)',
  },
  {
    key: 'height',
    kind: 'integer',
    min: 8,
    max: 1024,
    default: 256,
    description: "input height in pixels (evaluate, distill: the model's own from its model.json unless set)",
  },
  {
    key: 'width',
    kind: 'integer',
    min: 8,
    max: 1024,
    default: 128,
    description: "input width in pixels (evaluate, distill: the model's own unless set)",
  },
  {
    key: 'testFrames',
    kind: 'integer',
    min: 1,
    max: 64,
    default: 8,
    description: 'frames per query/gallery tracklet at test time (chunk-first)',
  },
  {
    key: 'testBatch',
    kind: 'integer',
    min: 1,
    max: 1024,
    default: 32,
    description: 'tracklets per feature-extraction batch',
  },
];

/**
 * How the loaders read frames (`createTrackletLoader`'s `workers` and `prefetch`). Batches are bit-identical for any
 * values, so they are not result-changing settings: `--resume` accepts a change of them.
 */
export const LOADER_OPTIONS: readonly OptionSpec[] = [
  {
    key: 'workers',
    kind: 'integer',
    min: 0,
    max: MAX_LOADER_WORKERS,
    placeholder: 'n',
    description:
      `frame worker threads that decode, resize and augment images; 0: none (decodes on the libuv pool, the rest on ` +
      `the main thread); same results for any value (default: all cores but one, ${DEFAULT_LOADER_WORKERS} here)`,
  },
  {
    key: 'prefetch',
    kind: 'integer',
    min: 0,
    max: MAX_LOADER_PREFETCH,
    placeholder: 'n',
    default: DEFAULT_LOADER_PREFETCH,
    description:
      'batches read ahead while the model works on the current one (each holds its frames in memory); same results for any value',
  },
];

/** Network shape. */
export const MODEL_OPTIONS: readonly OptionSpec[] = [
  registryChoice(
    {
      key: 'backbone',
      default: 'resnet50',
      description: 'backbone network (@vkd/models registry; resnet50bam = resnet50 with BAM)',
    },
    backboneChoices,
  ),
  {
    key: 'attention',
    kind: 'choice',
    choices: ATTENTION_NAMES,
    // No default: unset means 'none', or 'bam' for the authors' combined names (resnet50bam, resnet101bam).
    get description() {
      const backbones = backbonesWithAttention('bam').join(', ');
      return `BAM attention (${backbones}); default none, bam for resnet50bam / resnet101bam`;
    },
  },
  {
    key: 'baseWidth',
    kind: 'integer',
    min: 4,
    max: 64,
    default: 64,
    description:
      'network width, 64 = standard (ResNet stage-1 channels, DenseNet initial features, MobileNet width ' +
      '×baseWidth/64); 16 = narrow CPU demo',
  },
];

/** Optimisation and schedule, shared by both stages. */
export const TRAINING_OPTIONS: readonly OptionSpec[] = [
  { key: 'epochs', kind: 'integer', min: 1, max: 100000, description: 'training epochs' },
  { key: 'identitiesPerBatch', kind: 'integer', min: 2, max: 1024, description: 'P: identities per batch' },
  {
    key: 'instancesPerIdentity',
    kind: 'integer',
    min: 1,
    max: 64,
    description: 'K: tracklets per identity in a batch',
  },
  { key: 'framesPerTracklet', kind: 'integer', min: 1, max: 64, description: 'N: frames (views) per tracklet' },
  // No `default` for the stage settings: unset, they take the stage's defaults (`teacherDefaultsFor`,
  // `DISTILL_DEFAULTS` of @vkd/trainer), stated once there; the help quotes the teacher's.
  {
    key: 'learningRate',
    kind: 'number',
    min: 0,
    max: 10,
    description: `Adam learning rate (default: ${TEACHER_DEFAULTS.learningRate}, the authors')`,
  },
  {
    key: 'weightDecay',
    kind: 'number',
    min: 0,
    max: 1,
    description: `L2 weight decay added to gradients, PyTorch Adam (default: ${TEACHER_DEFAULTS.weightDecay})`,
  },
  {
    key: 'gamma',
    kind: 'number',
    min: 0,
    max: 1,
    description: `learning-rate decay factor at each milestone (default: ${TEACHER_DEFAULTS.gamma})`,
  },
  {
    key: 'milestones',
    kind: 'integer-list',
    min: 1,
    placeholder: 'e.g. 100,200',
    description: 'epochs at which the learning rate is multiplied by gamma',
  },
  { key: 'augment', kind: 'boolean', default: true, description: 'pad+crop, flip, random erasing per frame' },
  {
    key: 'recompute',
    kind: 'boolean',
    default: false,
    description:
      'activation recomputation: a ResNet keeps only each stage input for the backward pass and recomputes the rest (less memory per frame, about one more forward pass of time; same results)',
  },
  {
    key: 'evalEvery',
    kind: 'integer',
    min: 0,
    description: `evaluate every n epochs, 0: only at the end (default: ${TEACHER_DEFAULTS.evaluateEvery})`,
  },
  {
    key: 'saveEvery',
    kind: 'integer',
    min: 1,
    description: `checkpoint every n epochs (default: ${TEACHER_DEFAULTS.evaluateEvery})`,
  },
  { key: 'keepLast', kind: 'integer', min: 1, default: 3, description: 'checkpoints kept besides the best' },
  {
    key: 'tensorboard',
    kind: 'path',
    placeholder: 'dir',
    description: 'also write TensorBoard event files (losses, learning rate, --eval-every metrics) to DIR/<stage>/',
  },
  {
    key: 'resume',
    kind: 'boolean',
    default: false,
    description: 'continue from the last good checkpoint in --out (settings that change the result must match)',
  },
  {
    key: 'allowChanged',
    kind: 'string',
    placeholder: 'keys',
    description: 'with --resume: settings that may differ from the run, e.g. learning-rate,epochs',
  },
  {
    key: 'imagenetWeights',
    kind: 'path',
    literals: [FROM_SCRATCH],
    placeholder: 'dir|none',
    description:
      "ImageNet model directory (vkd import-weights --format torchvision): train-teacher starts the backbone from it, distill reloads the student's last stage from it, as the authors; required by the authors' presets; none: from scratch / random re-init",
  },
];

/** The teacher stage (`tools/train_v2v.py`). */
export const TEACHER_OPTIONS: readonly OptionSpec[] = [
  {
    key: 'trainStrategy',
    kind: 'choice',
    choices: ['chunk', 'multiview'],
    default: 'chunk',
    description:
      "training frames (the authors' --train_strategy): chunk = one random frame per chunk of the tracklet; multiview = frames from several tracklets of the identity",
  },
];

/** The VKD student stage. */
export const DISTILL_OPTIONS: readonly OptionSpec[] = [
  {
    key: 'trainStrategy',
    kind: 'choice',
    choices: ['multiview', 'temporal'],
    default: 'multiview',
    description:
      "views of the teacher (the authors' --train_strategy): multiview = one random frame from each of N tracklets of the identity; temporal = the first frame of each of N chunks of one tracklet",
  },
  {
    key: 'logitsDistance',
    kind: 'choice',
    choices: ['kl', 'mse'],
    default: 'kl',
    description:
      'distillation term on the logits (--logits_dist): kl = τ²·KL(teacher‖student); mse = mean squared logit difference',
  },
  {
    key: 'generations',
    kind: 'integer',
    min: 1,
    max: 20,
    default: 1,
    description: 'born-again rounds (--num_generations): each distilled student becomes the next teacher',
  },
  {
    key: 'generationLrDecay',
    kind: 'number',
    min: 0,
    max: 1,
    default: 0.1,
    description: 'learning rate of generation g = --learning-rate × this^(g−1), at least 1e-5 (--lr_decay)',
  },
  {
    key: 'teacher',
    kind: 'path',
    placeholder: 'dir',
    description: 'teacher run directory (from train-teacher) or model directory',
  },
  {
    key: 'studentFrames',
    kind: 'integer',
    min: 1,
    max: 64,
    default: DISTILL_DEFAULTS.studentFrames,
    description: "M: views the student sees (of the teacher's N)",
  },
  {
    key: 'kdWeight',
    kind: 'number',
    min: 0,
    default: DISTILL_DEFAULTS.kdWeight,
    description: 'α: weight of the logit distillation (KL × τ²)',
  },
  {
    key: 'dpWeight',
    kind: 'number',
    min: 0,
    default: DISTILL_DEFAULTS.dpWeight,
    description: 'β: weight of the distance-preserving loss',
  },
  {
    key: 'temperature',
    kind: 'number',
    min: 0.01,
    default: DISTILL_DEFAULTS.temperature,
    description: 'τ: distillation temperature',
  },
  {
    key: 'reinitLastStage',
    kind: 'boolean',
    default: true,
    description:
      "reset the student's last stage (ResNet layer4) before distilling, as the authors (--reinit_l4); false keeps the teacher's",
  },
];
