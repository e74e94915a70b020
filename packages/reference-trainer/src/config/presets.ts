import { UnknownKeyError } from '@vkd/core';
import type { OptionValues } from '../options/option-spec';

/** Which stage of VKD a command runs; a preset holds settings per stage. */
export type Stage = 'teacher' | 'distill' | 'evaluate';

/** A named set of option values reproducing one of the authors' runs (or the demo). */
export interface Preset {
  readonly description: string;
  /**
   * The preset reproduces one of the authors' runs, which always start from ImageNet (`--pretrained True`; the
   * student's last stage is reloaded from ImageNet): `--imagenet-weights` is then required (`none` to opt out).
   */
  readonly requiresImagenetWeights?: boolean;
  /** Values for every stage (dataset, image size, backbone). */
  readonly common: OptionValues;
  /** Teacher stage (`vkd train-teacher`): `tools/train_v2v.py` settings. */
  readonly teacher: OptionValues;
  /** Student stage (`vkd distill`): `tools/train_distill.py` settings. */
  readonly distill: OptionValues;
}

const range = (start: number, stop: number, step: number): number[] => {
  const values: number[] = [];
  for (let value = start; value < stop; value += step) values.push(value);
  return values;
};

/** VKD student stage as run by `commands.txt` (vkd-method §4.6, §8.3): 500 epochs, milestones 300 and 450. */
const AUTHORS_DISTILL: OptionValues = {
  identitiesPerBatch: 12, instancesPerIdentity: 4, framesPerTracklet: 8, studentFrames: 2,
  epochs: 500, milestones: range(300, 500, 150), learningRate: 1e-4, weightDecay: 1e-5, gamma: 0.1,
  kdWeight: 0.1, dpWeight: 1e-4, temperature: 10, evalEvery: 50, saveEvery: 50,
};

/** Person video sets (MARS, Duke): P=8, K=4, N=8 at 256×128; milestones 100, 200 (r18: every 50) (vkd-method §3.2, §3.3). */
function personPreset(dataset: 'mars' | 'duke-video', backbone: string, attention: 'none' | 'bam'): Preset {
  const firstMilestone = backbone === 'resnet18' ? 50 : 100;
  return {
    description: `${dataset} ${backbone}${attention === 'bam' ? '+BAM' : ''}: the authors' commands.txt run (teacher 300 epochs, student 500)`,
    requiresImagenetWeights: true,
    common: { dataset, height: 256, width: 128, backbone, attention, baseWidth: 64, testFrames: 8 },
    teacher: {
      identitiesPerBatch: 8, instancesPerIdentity: 4, framesPerTracklet: 8, epochs: 300,
      milestones: range(firstMilestone, 300, firstMilestone), learningRate: 1e-4, weightDecay: 1e-5, gamma: 0.1,
      evalEvery: 50, saveEvery: 50,
    },
    distill: AUTHORS_DISTILL,
  };
}

/** VeRi-776: teacher on single images (P=18, K=4, N=1) at 224×224, milestones 200, 250 (vkd-method §3.2, §4.6). */
function veriPreset(backbone: string, attention: 'none' | 'bam'): Preset {
  return {
    description: `veri-776 ${backbone}${attention === 'bam' ? '+BAM' : ''}: the authors' commands.txt run (teacher N=1, student N=8/M=2)`,
    requiresImagenetWeights: true,
    common: { dataset: 'veri-776', height: 224, width: 224, backbone, attention, baseWidth: 64, testFrames: 8 },
    teacher: {
      identitiesPerBatch: 18, instancesPerIdentity: 4, framesPerTracklet: 1, epochs: 300, milestones: range(200, 300, 50),
      learningRate: 1e-4, weightDecay: 1e-5, gamma: 0.1, evalEvery: 50, saveEvery: 50,
    },
    distill: AUTHORS_DISTILL,
  };
}

/** Settings of `vkd demo` (tuned for ≤ 10 minutes on 2 cores with the wasm backend). */
const DEMO_COMMON: OptionValues = {
  dataset: 'synthetic', height: 64, width: 32, backbone: 'resnet18', attention: 'none', baseWidth: 16, testFrames: 8,
};

/**
 * Both demo stages: small P×K batches (many steps per epoch), Adam at 3e-3 (30× the authors' 1e-4: a few hundred
 * steps instead of tens of thousands), no augmentation (the authors' pad-10 crop is sized for 256×128 frames).
 */
const DEMO_STAGE: OptionValues = {
  identitiesPerBatch: 4, instancesPerIdentity: 2, framesPerTracklet: 4, learningRate: 3e-3, weightDecay: 1e-5, gamma: 0.1,
  augment: false, evalEvery: 0, saveEvery: 10,
};

/** The student sees M = 2 of the teacher's N = 4 views, with the authors' loss weights (α = 0.1, β = 1e-4, τ = 10). */
const DEMO_DISTILL: OptionValues = { studentFrames: 2, kdWeight: 0.1, dpWeight: 1e-4, temperature: 10 };

/** Presets by name. Backbones: the ResNets `@vkd/models` implements (DenseNet/MobileNet are not ported). */
export const PRESETS: Readonly<Record<string, Preset>> = Object.freeze({
  'mars-resnet18': personPreset('mars', 'resnet18', 'none'),
  'mars-resnet34': personPreset('mars', 'resnet34', 'none'),
  'mars-resnet50': personPreset('mars', 'resnet50', 'none'),
  'mars-resnet101': personPreset('mars', 'resnet101', 'none'),
  'mars-resnet50bam': personPreset('mars', 'resnet50', 'bam'),
  'duke-resnet18': personPreset('duke-video', 'resnet18', 'none'),
  'duke-resnet34': personPreset('duke-video', 'resnet34', 'none'),
  'duke-resnet50': personPreset('duke-video', 'resnet50', 'none'),
  'duke-resnet101': personPreset('duke-video', 'resnet101', 'none'),
  'duke-resnet50bam': personPreset('duke-video', 'resnet50', 'bam'),
  'veri-resnet34': veriPreset('resnet34', 'none'),
  'veri-resnet50': veriPreset('resnet50', 'none'),
  'veri-resnet101': veriPreset('resnet101', 'none'),
  'veri-resnet50bam': veriPreset('resnet50', 'bam'),
  demo: {
    description: 'vkd demo: synthetic multi-view set, narrow ResNet-18 (baseWidth 16) at 64×32, teacher N=4, student M=2',
    common: DEMO_COMMON,
    teacher: { ...DEMO_STAGE, framesPerTracklet: 4, epochs: 30, milestones: [20] },
    distill: { ...DEMO_STAGE, ...DEMO_DISTILL, epochs: 20, milestones: [14] },
  },
  'demo-quick': {
    description: 'vkd demo --quick: the demo at CI-smoke-test size (≈ 2 minutes)',
    common: { ...DEMO_COMMON, testFrames: 4 },
    teacher: { ...DEMO_STAGE, epochs: 8, milestones: [6] },
    distill: { ...DEMO_STAGE, ...DEMO_DISTILL, epochs: 6, milestones: [4] },
  },
});

/** Names accepted by `--preset`. */
export const PRESET_NAMES: readonly string[] = Object.keys(PRESETS);

/** Whether `--preset name` needs `--imagenet-weights` (an authors' run); false for unknown names and no preset. */
export function presetRequiresImagenetWeights(name: unknown): boolean {
  return typeof name === 'string' && PRESETS[name]?.requiresImagenetWeights === true;
}

/**
 * The option values of a preset for one stage (common values plus the stage's; `evaluate` gets the common ones).
 * @throws UnknownKeyError listing the preset names.
 */
export function presetValues(name: string, stage: Stage): OptionValues {
  const preset = PRESETS[name];
  if (!preset) throw new UnknownKeyError('preset', name, PRESET_NAMES);
  if (stage === 'evaluate') return { ...preset.common };
  return { ...preset.common, ...(stage === 'teacher' ? preset.teacher : preset.distill) };
}
