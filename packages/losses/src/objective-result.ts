import type * as tf from '@tensorflow/tfjs-core';

/** Unweighted loss terms, one scalar each, named as the trainer logs them. */
export interface ObjectiveTerms {
  /** Cross-entropy on the (student's) logits. */
  crossEntropy: tf.Scalar;
  /** Batch-hard triplet loss on the (student's) embeddings. */
  triplet: tf.Scalar;
  /** τ²-scaled KL distillation (or logit MSE with `logitsDistance: 'mse'`); VKD stage only. */
  logitDistillation?: tf.Scalar;
  /** Distance-preserving loss; VKD stage only. */
  distancePreserving?: tf.Scalar;
}

/** What `teacherObjective` / `vkdObjective` return: the weighted total and every unweighted term (caller disposes all). */
export interface ObjectiveResult<Terms extends ObjectiveTerms = ObjectiveTerms> {
  /** The scalar to differentiate: the weighted sum of the terms. */
  total: tf.Scalar;
  terms: Terms;
}

/** Terms of the teacher stage. */
export type TeacherObjectiveTerms = Pick<ObjectiveTerms, 'crossEntropy' | 'triplet'>;

/** Terms of the VKD (student) stage: all four are present. */
export type VkdObjectiveTerms = Required<ObjectiveTerms>;
