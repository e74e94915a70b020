import * as tf from '@tensorflow/tfjs-core';
import { stopGradient } from './stop-gradient';

/**
 * Float32 one-hot rows `[N, depth]` for int32 `indices` `[N]`; an index outside `[0, depth)` gives an all-zero row.
 * Built from `tf.equal` against a range because `tf.oneHot` rejects `depth < 2` (one identity, a batch of one).
 * The indices are detached: `Equal` has no gradient, and an arg-max index must not be on the tape.
 * @returns `[N, depth]` float32 (caller disposes).
 */
export function oneHotRows(indices: tf.Tensor1D, depth: number): tf.Tensor2D {
  return tf.tidy(() => {
    const columns = tf.range(0, depth, 1, 'int32');
    return tf.cast(
      tf.equal(tf.expandDims(stopGradient(indices), 1), tf.expandDims(columns, 0)),
      'float32',
    ) as tf.Tensor2D;
  });
}
