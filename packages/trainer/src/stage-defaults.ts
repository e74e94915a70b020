import { findDatasetEntry } from '@vkd/datasets';
import { VKD_WEIGHT_DEFAULTS } from '@vkd/losses';
import { milestoneRange } from './lr-schedule';

/** Settings of one training stage as the VKD authors ran it (`vkd-method.md` §3, §4, §8). */
export interface StageDefaults {
  readonly epochs: number;
  readonly learningRate: number;
  readonly weightDecay: number;
  readonly milestones: readonly number[];
  readonly gamma: number;
  /** P identities per batch. */
  readonly identitiesPerBatch: number;
  /** K tracklets per identity. */
  readonly instancesPerIdentity: number;
  /** N frames per tracklet fed to the trained network (teacher stage) or to the frozen teacher (VKD stage). */
  readonly framesPerTracklet: number;
  /** Training frame strategy of `@vkd/datasets`. */
  readonly strategy: 'chunk' | 'multiview';
  /** Evaluation and checkpoint period in epochs. */
  readonly evaluateEvery: number;
}

/** Extra settings of the VKD (student) stage. */
export interface DistillDefaults extends StageDefaults {
  /** M frames of the N given to the student. */
  readonly studentFrames: number;
  /** α: weight of the τ²-scaled KL term. */
  readonly kdWeight: number;
  /** β: weight of the distance-preserving term. */
  readonly dpWeight: number;
  /** τ. */
  readonly temperature: number;
}

/** Teacher stage, MARS/Duke with ResNet-34/50/101, BAM, DenseNet, MobileNet (`commands.txt`). */
export const TEACHER_DEFAULTS: StageDefaults = Object.freeze({
  epochs: 300,
  learningRate: 1e-4,
  weightDecay: 1e-5,
  milestones: Object.freeze(milestoneRange(100, 300, 100)),
  gamma: 0.1,
  identitiesPerBatch: 8,
  instancesPerIdentity: 4,
  framesPerTracklet: 8,
  strategy: 'chunk',
  evaluateEvery: 50,
});

/** VKD stage as in `commands.txt`: 500 epochs, milestones 300 and 450, P=12, K=4, N=8, M=2, α=0.1, β=1e-4, τ=10. */
export const DISTILL_DEFAULTS: DistillDefaults = Object.freeze({
  epochs: 500,
  learningRate: 1e-4,
  weightDecay: 1e-5,
  milestones: Object.freeze(milestoneRange(300, 500, 150)),
  gamma: 0.1,
  identitiesPerBatch: 12,
  instancesPerIdentity: 4,
  framesPerTracklet: 8,
  strategy: 'multiview',
  evaluateEvery: 50,
  studentFrames: 2,
  ...VKD_WEIGHT_DEFAULTS,
});

/** The authors' random seed (`--seed 1897` in `commands.txt`): sampling, augmentation, the student's view subsets. */
export const AUTHORS_SEED = 1897;

/**
 * The authors' teacher-stage settings for a dataset and backbone: `TEACHER_DEFAULTS` with the dataset table's
 * `teacherDefaults(backbone)` of `@vkd/datasets` on top (MARS/Duke: ResNet-18 decays every 50 epochs from 50;
 * VeRi: single images, N=1, P=18, milestones 200 and 250). An unregistered dataset gets `TEACHER_DEFAULTS`.
 */
export function teacherDefaultsFor(dataset: string, backbone: string): StageDefaults {
  const overrides = findDatasetEntry(dataset)?.teacherDefaults?.(backbone);
  return overrides ? Object.freeze({ ...TEACHER_DEFAULTS, ...overrides }) : TEACHER_DEFAULTS;
}
