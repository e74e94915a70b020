import * as tf from '@tensorflow/tfjs-core';

/** ε that `aimagelab/VKD: model/loss.py` `OnlineTripletLoss.cdist` adds inside the square root. */
export const TRIPLET_DISTANCE_EPSILON = 1e-12;

/**
 * Squared Euclidean distances between all rows, in the exact form the VKD authors use
 * (`MatrixPairwiseDistances`: `Σ_d (x_i − x_j)²` from explicit differences, not `‖x‖² + ‖y‖² − 2x·y`): the
 * diagonal is exactly 0 and near-duplicates suffer no cancellation. Forward memory is `B·B·D` floats (B = 48,
 * D = 2048: 19 MB). The gradient is the exact `∂L/∂x_i = 2 Σ_k (G_ik + G_ki)(x_i − x_k)`, evaluated with one
 * `[B, B]×[B, D]` matMul on mean-centred rows instead of back-propagating through the `[B, B, D]` broadcast
 * (wasm, B = 48, D = 2048: ~10× faster).
 * @param embeddings `[B, D]` float32.
 * @returns `[B, B]` float32 (caller disposes).
 */
export function squaredEuclideanDistances(embeddings: tf.Tensor2D): tf.Tensor2D {
  const distances = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const x = args[0] as tf.Tensor2D;
    (args[1] as tf.GradSaveFunc)([x]);
    const differences = tf.sub(tf.expandDims(x, 1), tf.expandDims(x, 0)); // [B, B, D]
    return {
      value: tf.sum(tf.square(differences), 2),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        // Distances do not change under translation; centring keeps rowSum·x_i − (S·x)_i free of cancellation.
        const centred = tf.sub(saved[0] as tf.Tensor2D, tf.mean(saved[0] as tf.Tensor2D, 0, true));
        // S = G + Gᵀ without its diagonal: D_ii ≡ 0 has no gradient, and a large G_ii (e.g. from sqrt(D + ε) at
        // the diagonal, 1/(2·1e-6)) would otherwise cancel only up to float32 rounding in rowSum·x_i − (S·x)_i.
        const offDiagonal = tf.sub(1, tf.eye(dy.shape[0]!));
        const symmetric = tf.mul(tf.add(dy, tf.transpose(dy)), offDiagonal) as tf.Tensor2D; // [B, B]
        return tf.mul(tf.sub(tf.mul(tf.sum(symmetric, 1, true), centred), tf.matMul(symmetric, centred)), 2);
      },
    };
  });
  return distances(embeddings) as tf.Tensor2D;
}

/**
 * Euclidean distances `sqrt(Σ_d (x_i − x_j)² + ε)` between all rows, as `OnlineTripletLoss.cdist` computes them.
 * ε keeps the square root differentiable on the diagonal (there the distance is `sqrt(ε)` = 1e-6 and the gradient 0).
 * @param embeddings `[B, D]` float32.
 * @param epsilon added inside the square root; default 1e-12 (the authors' value).
 * @returns `[B, B]` float32 (caller disposes).
 */
export function euclideanDistances(embeddings: tf.Tensor2D, epsilon = TRIPLET_DISTANCE_EPSILON): tf.Tensor2D {
  return tf.tidy(() => tf.sqrt(tf.add(squaredEuclideanDistances(embeddings), epsilon)) as tf.Tensor2D);
}
