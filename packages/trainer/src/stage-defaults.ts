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
  readonly kd: number;
  /** β: weight of the distance-preserving term. */
  readonly dp: number;
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
  kd: 0.1,
  dp: 1e-4,
  temperature: 10,
});

/**
 * Teacher-stage overrides per dataset and backbone (`vkd-method.md` §3.2, §3.3): ResNet-18 on MARS/Duke decays every
 * 50 epochs from 50; VeRi trains on single images (N=1), P=18, milestones 200 and 250.
 */
export function teacherDefaultsFor(dataset: string, backbone: string): StageDefaults {
  if (dataset === 'veri-776') {
    return Object.freeze({ ...TEACHER_DEFAULTS, milestones: milestoneRange(200, 300, 50), identitiesPerBatch: 18, framesPerTracklet: 1 });
  }
  if (backbone === 'resnet18') return Object.freeze({ ...TEACHER_DEFAULTS, milestones: milestoneRange(50, 300, 50) });
  return TEACHER_DEFAULTS;
}
