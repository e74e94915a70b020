import * as tf from '@tensorflow/tfjs-core';
import { stopGradient } from './stop-gradient';
import { checkMatrix } from './validate';

/** Unchecked core of {@link logitMatching}; callers validate first. */
export function computeLogitMatching(teacherLogits: tf.Tensor2D, studentLogits: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.square(tf.sub(studentLogits, stopGradient(teacherLogits)))) as tf.Scalar);
}

/**
 * Logit matching, the authors' alternative to KL distillation (`--logits_dist mse`, not their default):
 * `L = (1/(B·I)) Σ_{i,c} (z_S,ic − z_T,ic)²`, no temperature. No gradient flows into `teacherLogits`.
 *
 * Reference: `aimagelab/VKD: model/loss.py` `LogitsMatching` (`nn.MSELoss(reduction='mean')(student, teacher)`).
 * @param teacherLogits `[B, I]` float32 (treated as constants).
 * @param studentLogits `[B, I]` float32.
 * @returns scalar float32 loss (caller disposes).
 * @throws ShapeMismatchError when the shapes differ; DtypeMismatchError for non-float32 input.
 */
export function logitMatching(teacherLogits: tf.Tensor, studentLogits: tf.Tensor): tf.Scalar {
  const bindings = {};
  const teacher = checkMatrix(teacherLogits, 'logitMatching.teacherLogits', 'I', bindings);
  const student = checkMatrix(studentLogits, 'logitMatching.studentLogits', 'I', bindings);
  return computeLogitMatching(teacher, student);
}
