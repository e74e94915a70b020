import type * as tf from '@tensorflow/tfjs-core';
import { InvalidOptionError } from '@vkd/core';
import type { ReidModel } from '@vkd/models';

/** How the student's last stage (layer4) starts. */
export type LastStageInit = 'imagenet' | 'random' | 'keep';

/** Options of {@link createStudent}. */
export interface CreateStudentOptions {
  /**
   * `'imagenet'`: layer4 (weights and BN statistics) from `imagenetWeights`, as the authors (`reinit_l4=True`).
   * `'random'`: layer4 freshly initialised as a new model would be (what "re-initialise" means without pretrained
   * weights). `'keep'`: layer4 keeps the teacher's weights (only the head is reset).
   * Default: `'imagenet'` when `imagenetWeights` is given, otherwise `'random'`.
   */
  lastStage?: LastStageInit;
  /** ImageNet weights of the backbone, PyTorch-style names (from `importTorchWeights`/a converted checkpoint). */
  imagenetWeights?: Record<string, tf.Tensor>;
}

/**
 * The VKD student initialisation (`vkd-method.md` §4.1): a deep copy of `source` (the teacher for
 * self-distillation, another teacher-stage model for cross-distillation) with a fresh BNNeck + classifier and the
 * last stage re-initialised. The teacher is left untouched.
 * @returns a new model (caller disposes).
 * @throws InvalidOptionError when `lastStage: 'imagenet'` is asked without `imagenetWeights`.
 */
export function createStudent(source: ReidModel, options: CreateStudentOptions = {}): ReidModel {
  const lastStage = options.lastStage ?? (options.imagenetWeights ? 'imagenet' : 'random');
  if (!['imagenet', 'random', 'keep'].includes(lastStage)) {
    throw new InvalidOptionError('createStudent.lastStage', lastStage, "Use 'imagenet', 'random' or 'keep'.");
  }
  if (lastStage === 'imagenet' && !options.imagenetWeights) {
    throw new InvalidOptionError(
      'createStudent.imagenetWeights',
      undefined,
      "lastStage 'imagenet' needs ImageNet backbone weights; pass them or use lastStage 'random' (fresh init) or 'keep'.",
    );
  }
  const student = source.clone();
  try {
    student.resetHead();
    if (lastStage === 'imagenet') student.reinitialiseLastStage(options.imagenetWeights);
    else if (lastStage === 'random') student.reinitialiseLastStage();
    return student;
  } catch (error) {
    student.dispose();
    throw error;
  }
}
