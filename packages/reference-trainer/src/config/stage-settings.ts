import { InvalidOptionError } from '@vkd/core';
import { datasetNames } from '@vkd/datasets';
import { DEFAULT_LOADER_PREFETCH, DEFAULT_LOADER_WORKERS } from '@vkd/datasets/node';
import { checkBackboneAttention, resolveBackboneName, type AttentionName, type BackboneName } from '@vkd/models';
import { DISTILL_DEFAULTS, teacherDefaultsFor } from '@vkd/trainer';
import { flagName, keyFromFlag, type OptionValues } from '../options/option-spec';
import { resolveImagenetStart, type ImagenetStart } from './imagenet-start';
import { requireOption } from '../options/resolve-options';

/**
 * `--workers` / `--prefetch`: how the loaders read frames (`createTrackletLoader`'s options of the same names). Batches
 * are bit-identical for any values; recorded in settings.json but not compared by `--resume`.
 */
export interface LoaderSettings {
  readonly workers: number;
  readonly prefetch: number;
}

/** Data and model settings shared by every stage. */
export interface DataSettings extends LoaderSettings {
  readonly dataset: string;
  readonly root: string;
  /** `--skip-bad-frames`: frames that cannot be decoded are left out when the dataset is loaded. */
  readonly skipBadFrames: boolean;
  /** `--tracklet-grouping`: the loader's `grouping` (a value of the dataset's `groupings`); absent: its default. */
  readonly trackletGrouping?: string;
  readonly height: number;
  readonly width: number;
  readonly testFrames: number;
  readonly testBatch: number;
  readonly seed: number;
}

/** Model shape. */
export interface ModelSettings {
  /** A name of the `@vkd/models` backbone registry. */
  readonly backbone: BackboneName;
  readonly attention: AttentionName;
  readonly baseWidth: number;
}

/** One training stage (teacher or student). */
export interface TrainingSettings {
  readonly epochs: number;
  readonly identitiesPerBatch: number;
  readonly instancesPerIdentity: number;
  readonly framesPerTracklet: number;
  readonly learningRate: number;
  readonly weightDecay: number;
  readonly gamma: number;
  readonly milestones: readonly number[];
  readonly augment: boolean;
  /** `--recompute`: activation recomputation per ResNet stage (less memory, more time, same results). */
  readonly recompute: boolean;
  readonly evalEvery: number;
  readonly saveEvery: number;
  readonly keepLast: number;
  readonly resume: boolean;
  /** `--tensorboard DIR`: also write TensorBoard event files to DIR/<stage>/. */
  readonly tensorboard?: string;
  /** `--allow-changed`: result-changing settings a `--resume` may change (camelCase keys). */
  readonly allowChanged: readonly string[];
  /**
   * Training frames, by the authors' `--train_strategy` name: teacher `chunk` | `multiview`, student `multiview` |
   * `temporal` (see {@link frameStrategyOf}).
   */
  readonly trainStrategy: 'chunk' | 'multiview' | 'temporal';
  /** Where the backbone starts (teacher) or the student's last stage is reloaded from (distill); in settings.json. */
  readonly imagenetStart: ImagenetStart;
}

/** The VKD stage's extra settings. */
export interface DistillSettings extends TrainingSettings {
  readonly studentFrames: number;
  readonly kdWeight: number;
  readonly dpWeight: number;
  readonly temperature: number;
  /** `--reinit-last-stage` (the authors' `--reinit_l4`, default true): reset layer4 before distilling. */
  readonly reinitLastStage: boolean;
  /** `--logits-distance` (`--logits_dist`): `kl` (τ²-scaled KL) or `mse` (logit matching). */
  readonly logitsDistance: 'kl' | 'mse';
  /** `--generations` (`--num_generations`): born-again rounds, each student the next teacher. */
  readonly generations: number;
  /** `--generation-lr-decay` (`--lr_decay`): generation g trains at learningRate · decay^(g−1), at least 1e-5. */
  readonly generationLrDecay: number;
}

/** Loader settings from resolved options; unset: the loader's defaults (all cores but one, 2 batches ahead). */
export function loaderSettings(options: OptionValues): LoaderSettings {
  return {
    workers: (options.workers as number | undefined) ?? DEFAULT_LOADER_WORKERS,
    prefetch: (options.prefetch as number | undefined) ?? DEFAULT_LOADER_PREFETCH,
  };
}

/**
 * Data settings from resolved options.
 * @throws InvalidOptionError when `--dataset` or `--root` is missing.
 */
export function dataSettings(options: OptionValues): DataSettings {
  return {
    dataset: requireOption<string>(
      options,
      'dataset',
      '--dataset',
      `pass the dataset loader, e.g. --dataset mars (one of: ${datasetNames().join(', ')}), or a --preset that sets it.`,
    ),
    root: requireOption<string>(
      options,
      'root',
      '--root',
      'pass the dataset root directory, e.g. --root ./datasets/mars.',
    ),
    skipBadFrames: options.skipBadFrames === true,
    ...(typeof options.trackletGrouping === 'string' ? { trackletGrouping: options.trackletGrouping } : {}),
    height: options.height as number,
    width: options.width as number,
    testFrames: options.testFrames as number,
    testBatch: options.testBatch as number,
    seed: options.seed as number,
    ...loaderSettings(options),
  };
}

/**
 * Model settings from resolved options (backbone and baseWidth have defaults); the authors' combined names resolve to
 * their backbone and attention (`--backbone resnet50bam` = `--backbone resnet50 --attention bam`).
 * @throws InvalidOptionError for an attention the backbone lacks or that contradicts a combined name.
 */
export function modelSettings(options: OptionValues): ModelSettings {
  const given = options.attention as AttentionName | undefined;
  const { backbone, attention } = resolveBackboneName(String(options.backbone), given, '--attention');
  checkBackboneAttention(backbone, attention, '--attention');
  return { backbone, attention, baseWidth: options.baseWidth as number };
}

/** `--allow-changed seed,learning-rate` → `['seed', 'learningRate']`. */
function allowedChanges(value: unknown): readonly string[] {
  if (value === undefined || value === '') return [];
  return String(value)
    .split(',')
    .map((item) => keyFromFlag(item.trim()))
    .filter((item) => item !== '');
}

function checkMilestones(milestones: readonly number[], epochs: number): void {
  for (let index = 1; index < milestones.length; index++) {
    if ((milestones[index] as number) <= (milestones[index - 1] as number)) {
      throw new InvalidOptionError(
        '--milestones',
        milestones,
        'Milestones must be strictly increasing epochs, e.g. 100,200.',
      );
    }
  }
  const late = milestones.find((milestone) => milestone >= epochs);
  if (late !== undefined)
    throw new InvalidOptionError(
      '--milestones',
      milestones,
      `Milestone ${late} is not before the last epoch (--epochs ${epochs}); it would never apply.`,
    );
}

/**
 * Teacher-stage settings; unset values default to the authors' for the dataset and backbone (`teacherDefaultsFor`).
 * @throws InvalidOptionError naming the offending option.
 */
export function teacherSettings(options: OptionValues): TrainingSettings {
  const defaults = teacherDefaultsFor(String(options.dataset ?? ''), String(options.backbone ?? ''));
  const settings = trainingSettings(options, defaults);
  return {
    ...settings,
    imagenetStart: resolveImagenetStart(options, 'start the teacher from ImageNet (--pretrained True)'),
  };
}

function trainingSettings(
  options: OptionValues,
  defaults: ReturnType<typeof teacherDefaultsFor>,
): Omit<TrainingSettings, 'imagenetStart'> {
  const pick = <T>(key: string, fallback: T): T => (options[key] ?? fallback) as T;
  const settings = {
    epochs: pick('epochs', defaults.epochs),
    identitiesPerBatch: pick('identitiesPerBatch', defaults.identitiesPerBatch),
    instancesPerIdentity: pick('instancesPerIdentity', defaults.instancesPerIdentity),
    framesPerTracklet: pick('framesPerTracklet', defaults.framesPerTracklet),
    learningRate: pick('learningRate', defaults.learningRate),
    weightDecay: pick('weightDecay', defaults.weightDecay),
    gamma: pick('gamma', defaults.gamma),
    milestones:
      options.milestones !== undefined
        ? (options.milestones as readonly number[])
        : options.epochs !== undefined
          ? defaults.milestones.filter((m) => m < (options.epochs as number))
          : defaults.milestones,
    augment: pick('augment', true),
    recompute: pick('recompute', false),
    evalEvery: pick('evalEvery', defaults.evaluateEvery),
    saveEvery: pick('saveEvery', defaults.evaluateEvery),
    keepLast: pick('keepLast', 3),
    resume: pick('resume', false),
    ...(typeof options.tensorboard === 'string' ? { tensorboard: options.tensorboard } : {}),
    allowChanged: allowedChanges(options.allowChanged),
    trainStrategy: pick<'chunk' | 'multiview' | 'temporal'>('trainStrategy', defaults.strategy),
  };
  if (settings.allowChanged.length > 0 && !settings.resume) {
    throw new InvalidOptionError(
      '--allow-changed',
      options.allowChanged,
      'It only applies with --resume (a fresh run has nothing to compare with).',
    );
  }
  checkMilestones(settings.milestones, settings.epochs);
  return settings;
}

/**
 * Student-stage settings; unset values default to the authors' `commands.txt` (`DISTILL_DEFAULTS`).
 * @throws InvalidOptionError naming the option (e.g. `--student-frames` larger than `--frames-per-tracklet`).
 */
export function distillSettings(options: OptionValues): DistillSettings {
  const base = trainingSettings(options, DISTILL_DEFAULTS);
  const reinitLastStage = options.reinitLastStage !== false;
  const settings: DistillSettings = {
    ...base,
    reinitLastStage,
    imagenetStart: { kind: 'unused' },
    logitsDistance: (options.logitsDistance as 'kl' | 'mse' | undefined) ?? 'kl',
    generations: (options.generations as number | undefined) ?? 1,
    generationLrDecay: (options.generationLrDecay as number | undefined) ?? 0.1,
    studentFrames: (options.studentFrames as number | undefined) ?? DISTILL_DEFAULTS.studentFrames,
    kdWeight: (options.kdWeight as number | undefined) ?? DISTILL_DEFAULTS.kdWeight,
    dpWeight: (options.dpWeight as number | undefined) ?? DISTILL_DEFAULTS.dpWeight,
    temperature: (options.temperature as number | undefined) ?? DISTILL_DEFAULTS.temperature,
  };
  if (settings.studentFrames > settings.framesPerTracklet) {
    throw new InvalidOptionError(
      flagName('studentFrames'),
      settings.studentFrames,
      `The student sees a subset of the teacher's ${settings.framesPerTracklet} views (--frames-per-tracklet); use at most ${settings.framesPerTracklet}.`,
    );
  }
  if (settings.generations > 1 && settings.resume) {
    throw new InvalidOptionError(
      '--resume',
      true,
      `--resume continues one stage; with --generations ${settings.generations} rerun without --resume (or resume a generation-N/ directory as its own run with --generations 1).`,
    );
  }
  if (!reinitLastStage && options.imagenetWeights !== undefined) {
    throw new InvalidOptionError(
      '--imagenet-weights',
      options.imagenetWeights,
      "With --reinit-last-stage false the student keeps the teacher's last stage, so ImageNet weights would not be used; drop one of the two.",
    );
  }
  const imagenetStart = reinitLastStage
    ? resolveImagenetStart(options, "reload the student's last stage from ImageNet (--reinit_l4 True)", 'distill')
    : settings.imagenetStart;
  return { ...settings, imagenetStart };
}

/**
 * The loader's frame strategy for a `--train-strategy` (`data/misc.py` `get_transforms` of aimagelab/VKD): `chunk` →
 * `RandomTemporalChunkCrop` (one random frame per chunk), `temporal` → `TemporalChunkCrop` (the first frame of each
 * chunk of the anchor tracklet, deterministic), `multiview` → `MultiViewTemporalTransform`.
 */
export function frameStrategyOf(
  trainStrategy: TrainingSettings['trainStrategy'],
): 'chunk' | 'chunk-first' | 'multiview' {
  return trainStrategy === 'temporal' ? 'chunk-first' : trainStrategy;
}

/** Learning rate of born-again generation `generation` (1-based): `LearningRateGenDecayer` of `train_distill.py`. */
export function generationLearningRate(
  training: Pick<DistillSettings, 'learningRate' | 'generationLrDecay'>,
  generation: number,
): number {
  if (generation === 1) return training.learningRate;
  return Math.max(training.learningRate * training.generationLrDecay ** (generation - 1), 1e-5);
}
