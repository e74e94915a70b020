import * as tf from '@tensorflow/tfjs-core';

/**
 * `log(1 + u)` to a few float32 ulps for u ≥ 0, on every backend. The wasm backend's `Log1p` computes `log(1 + u)`
 * (4.6 % error at u = 1e-6), so this uses Goldberg's correction: with `w = fl(1 + u)`,
 * `log1p(u) = log(w) · u / (w − 1)`, and `u` itself when `w` rounds to 1.
 */
function accurateLog1p(u: tf.Tensor): tf.Tensor {
  const w = tf.add(u, 1);
  const wMinusOne = tf.sub(w, 1);
  const corrected = tf.mul(tf.log(w), tf.div(u, tf.where(tf.equal(wMinusOne, 0), tf.onesLike(wMinusOne), wMinusOne)));
  return tf.where(tf.equal(wMinusOne, 0), u, corrected);
}

/**
 * `softplus(z) = log(1 + exp(z))` accurate in float32 over the whole range: `max(z, 0) + log1p(exp(−|z|))`, with the
 * exact gradient `sigmoid(z)`. `tf.softplus` computes `log(exp(z) + 1)` for −13.9 < z < 13.9, which in float32 loses
 * most digits once `exp(z)` drops below ~1e-4 (z = −13.5 gives a 5 % error): exactly the well-separated triplets.
 * @param z any float32 tensor.
 * @returns same shape (caller disposes).
 */
export function stableSoftplus<T extends tf.Tensor>(z: T): T {
  const softplus = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const input = args[0] as tf.Tensor;
    const save = args[1] as tf.GradSaveFunc;
    save([input]);
    return {
      value: tf.add(tf.relu(input), accurateLog1p(tf.exp(tf.neg(tf.abs(input))))),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(dy, tf.sigmoid(saved[0] as tf.Tensor)),
    };
  });
  return softplus(z) as T;
}
