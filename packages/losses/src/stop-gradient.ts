import * as tf from '@tensorflow/tfjs-core';

/**
 * Returns `x` cut off the gradient tape (PyTorch `x.detach()`; tfjs-core has no `tf.stopGradient`).
 *
 * The value is an `Identity` of `x` computed inside a `tf.customGrad` whose only recorded input is a fresh constant,
 * so the tape holds no path from `x` to anything computed from the result: gradients never flow into `x` or into
 * whatever produced it (e.g. a frozen teacher network), and `tf.variableGrads` returns no entry for the variables
 * behind `x`, instead of zero gradients that an optimiser with L2 weight decay would still apply.
 * @param x any tensor.
 * @returns a tensor with the same shape, dtype and values (caller disposes; it shares `x`'s buffer).
 */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  return tf.tidy(() => {
    const tapeAnchor = tf.scalar(0);
    // Only `tapeAnchor` is recorded as an input; the clone of `x` happens inside the custom op, off the tape.
    const detach = tf.customGrad((...inputs: Array<tf.Tensor | tf.GradSaveFunc>) => ({
      value: tf.clone(x),
      gradFunc: () => tf.zerosLike(inputs[0] as tf.Tensor),
    }));
    return detach(tapeAnchor) as T;
  });
}
