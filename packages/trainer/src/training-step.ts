import type { ReidModel } from '@vkd/models';
import type { AdamWithL2 } from './adam-with-l2';

/**
 * What checkpoints need from a model: `trainableVariables()` in a stable order (optimiser state is saved by
 * position), `getWeights()`/`setWeights()` with BN moving statistics, and `config` to rebuild it.
 */
export type TrainableModel = Pick<ReidModel, 'config' | 'trainableVariables' | 'getWeights' | 'setWeights'>;

/** Numbers read back from one training step. */
export interface StepOutput {
  /** The optimised objective. */
  total: number;
  /** Every named loss term (unweighted), e.g. `{ crossEntropy, triplet, logitDistillation, distancePreserving }`. */
  losses: Record<string, number>;
  /** Frames pushed through the trained network in this step (B·T), for images/s. */
  images: number;
}

/** JSON-serialisable state of a step (its random generators), saved in checkpoints. */
export type StepState = Record<string, number>;

/** One optimisation step on one batch, injected into the trainer (`teacherStep`, `distillStep`). */
export interface TrainingStep<Batch> {
  readonly kind: string;
  /** The model being trained (the student in VKD). */
  readonly model: ReidModel;
  readonly optimizer: AdamWithL2;
  /**
   * Runs forward, backward and the update. Creates and disposes its own tensors (no growth across steps).
   * @throws NonFiniteValueError when the loss is NaN/Inf; the update is then NOT applied.
   */
  run(batch: Batch): Promise<StepOutput>;
  getState(): StepState;
  setState(state: StepState): void;
}
