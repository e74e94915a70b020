import * as tf from '@tensorflow/tfjs-core';
import { squaredEuclideanDistances } from './pairwise-distance';
import { stopGradient } from './stop-gradient';
import { checkMatrix } from './validate';

/** Unchecked core of {@link distancePreserving}; callers validate first. */
export function computeDistancePreserving(teacherEmbeddings: tf.Tensor2D, studentEmbeddings: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const teacherDistances = squaredEuclideanDistances(stopGradient(teacherEmbeddings));
    const studentDistances = squaredEuclideanDistances(studentEmbeddings);
    return tf.mul(tf.mean(tf.square(tf.sub(studentDistances, teacherDistances))), 0.5) as tf.Scalar;
  });
}

/**
 * Distance-preserving loss of VKD: the student reproduces the teacher's pairwise distances,
 * `L_DP = 0.5 · (1/B²) Σ_{i,j} (D_S,ij − D_T,ij)²` with **squared** Euclidean distances
 * `D_ij = ‖e_i − e_j‖²` over the full `B×B` matrix (diagonal included, no normalisation). No gradient flows into
 * `teacherEmbeddings`. Teacher and student may have different embedding sizes (cross-distillation, e.g.
 * ResNet-101 → ResNet-34: 2048 vs 512); only the batch size must agree.
 *
 * Reference: VKD (Porrello et al., ECCV 2020) §3.2; `aimagelab/VKD: model/loss.py`
 * `SimilarityDistillationLoss('l2')` (`0.5 · MSELoss(reduction='mean')` of `MatrixPairwiseDistances`).
 * @param teacherEmbeddings `[B, D_T]` float32 pre-BNNeck teacher set embeddings (treated as constants).
 * @param studentEmbeddings `[B, D_S]` float32 pre-BNNeck student set embeddings.
 * @returns scalar float32 loss (caller disposes).
 * @throws ShapeMismatchError when the batch sizes differ; DtypeMismatchError for non-float32 input.
 */
export function distancePreserving(teacherEmbeddings: tf.Tensor, studentEmbeddings: tf.Tensor): tf.Scalar {
  const bindings = {};
  const teacher = checkMatrix(teacherEmbeddings, 'distancePreserving.teacherEmbeddings', 'D_T', bindings);
  const student = checkMatrix(studentEmbeddings, 'distancePreserving.studentEmbeddings', 'D_S', bindings);
  return computeDistancePreserving(teacher, student);
}
