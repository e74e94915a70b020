import type * as tf from '@tensorflow/tfjs-core';
import { InvalidOptionError } from '@vkd/core';
import type { ReidModel } from '@vkd/models';

/**
 * How the student's last stage starts: the weights its backbone re-initialises (`ReidModel.studentReinitPrefixes`,
 * the authors' `reinit_layers`): ResNet layer4, DenseNet denseblock4, nothing of a MobileNet.
 */
export type LastStageInit = 'imagenet' | 'random' | 'keep';

/** Options of {@link createStudent}. */
export interface CreateStudentOptions {
  /**
   * `'imagenet'`: the last stage (weights and BN statistics) from `imagenetWeights`, as the authors
   * (`reinit_l4=True`). `'random'`: the last stage freshly initialised as a new model would be (what "re-initialise"
   * means without pretrained weights). `'keep'`: it keeps the teacher's weights (only the head is reset).
   * Default: `'imagenet'` when `imagenetWeights` is given, otherwise `'random'`. For a backbone whose student
   * re-initialises nothing (MobileNet) the three are the same: only the head is reset, and no weights are needed.
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
 * @throws InvalidOptionError when `lastStage: 'imagenet'` is asked without `imagenetWeights` for a backbone whose
 *   student reloads a stage.
 */
export function createStudent(source: ReidModel, options: CreateStudentOptions = {}): ReidModel {
  const lastStage = options.lastStage ?? (options.imagenetWeights ? 'imagenet' : 'random');
  if (!['imagenet', 'random', 'keep'].includes(lastStage)) {
    throw new InvalidOptionError('createStudent.lastStage', lastStage, "Use 'imagenet', 'random' or 'keep'.");
  }
  const reloadsStage = source.studentReinitPrefixes.length > 0;
  if (lastStage === 'imagenet' && !options.imagenetWeights && reloadsStage) {
    throw new InvalidOptionError(
      'createStudent.imagenetWeights',
      undefined,
      "lastStage 'imagenet' needs ImageNet backbone weights; pass them or use lastStage 'random' (fresh init) or 'keep'.",
    );
  }
  const student = source.clone();
  try {
    student.resetHead();
    if (reloadsStage && lastStage === 'imagenet') student.reinitialiseLastStage(options.imagenetWeights);
    else if (reloadsStage && lastStage === 'random') student.reinitialiseLastStage();
    return student;
  } catch (error) {
    student.dispose();
    throw error;
  }
}
