import * as tf from '@tensorflow/tfjs-core';

/** The two gradient kernels of a depthwise convolution; tfjs-backend-wasm 4.22 registers neither. */
const GRADIENT_KERNELS = ['DepthwiseConv2dNativeBackpropInput', 'DepthwiseConv2dNativeBackpropFilter'];

type CustomGradFunction = Parameters<typeof tf.customGrad>[0];

function explicitPadding(pad: number): [[0, 0], [number, number], [number, number], [0, 0]] {
  return [
    [0, 0],
    [pad, pad],
    [pad, pad],
    [0, 0],
  ];
}

/** `[N, h, w, C]` → `[N, s·(h−1)+1, s·(w−1)+1, C]` with s−1 zeros between neighbours (a strided conv's gradient). */
function insertZeros(x: tf.Tensor4D, stride: number): tf.Tensor4D {
  if (stride === 1) return x;
  const [count, height, width, channels] = x.shape;
  const spreadHeight = stride * (height - 1) + 1;
  const zeroRows = tf.zeros([count, height, stride - 1, width, channels]);
  const spreadRows = tf.concat([tf.reshape(x, [count, height, 1, width, channels]), zeroRows], 2);
  const rows = tf.slice(tf.reshape(spreadRows, [count, height * stride, width, channels]), 0, [
    count,
    spreadHeight,
    width,
    channels,
  ]);
  const zeroColumns = tf.zeros([count, spreadHeight, width, stride - 1, channels]);
  const spreadColumns = tf.concat([tf.reshape(rows, [count, spreadHeight, width, 1, channels]), zeroColumns], 3);
  const columns = tf.reshape(spreadColumns, [count, spreadHeight, width * stride, channels]);
  return tf.slice(columns, 0, [count, spreadHeight, stride * (width - 1) + 1, channels]) as tf.Tensor4D;
}

/**
 * Gradients of `y = depthwiseConv2d(x, filter, stride, pad)` from forward ops only (call inside `tf.tidy`):
 * dx is the full correlation of the zero-spread dy with the 180°-rotated filter; dfilter[i, j, c] is
 * Σ x_padded[n, s·p + i, s·q + j, c] · dy[n, p, q, c], one strided slice of the padded input per filter tap.
 * @param x [N, H, W, C]; filter [k, k, C, 1]; dy [N, h, w, C]. @returns [dx, dfilter].
 */
export function depthwiseGradients(
  x: tf.Tensor4D,
  filter: tf.Tensor4D,
  dy: tf.Tensor4D,
  stride: number,
  pad: number,
): [tf.Tensor4D, tf.Tensor4D] {
  const [count, height, width, channels] = x.shape;
  const kernel = filter.shape[0];
  const [, outHeight, outWidth] = dy.shape;
  const spread = insertZeros(dy, stride);
  const before = kernel - 1 - pad;
  const padded = tf.pad(spread, [
    [0, 0],
    [before, height + kernel - 1 - before - spread.shape[1]],
    [before, width + kernel - 1 - before - spread.shape[2]],
    [0, 0],
  ]);
  const rotated = tf.reverse(filter, [0, 1]);
  const dx = tf.depthwiseConv2d(padded, rotated, 1, 'valid');
  const xPadded = tf.pad(x, explicitPadding(pad));
  const rows = count * outHeight * outWidth;
  const ones = tf.ones([1, rows]);
  const dyRows = tf.reshape(dy, [rows, channels]);
  const taps: tf.Tensor[] = [];
  for (let i = 0; i < kernel; i++) {
    for (let j = 0; j < kernel; j++) {
      const end = [count, i + stride * (outHeight - 1) + 1, j + stride * (outWidth - 1) + 1, channels];
      const window = tf.stridedSlice(xPadded, [0, i, j, 0], end, [1, stride, stride, 1]);
      // Column sums as a [1, M] × [M, C] product (a reduction over the leading axis transposes the tensor in tfjs).
      taps.push(tf.matMul(ones, tf.mul(tf.reshape(window, [rows, channels]), dyRows)));
    }
  }
  return [dx as tf.Tensor4D, tf.reshape(tf.concat(taps, 0), [kernel, kernel, channels, 1])];
}

/** Whether the active backend has the native gradient kernels of a depthwise convolution. */
function hasNativeGradients(): boolean {
  const backend = tf.getBackend();
  return GRADIENT_KERNELS.every((name) => tf.getKernel(name, backend) !== undefined);
}

/**
 * Depthwise conv2d (channel multiplier 1) with PyTorch's symmetric padding, trainable on every backend: where the
 * backend lacks the depthwise gradient kernels (wasm), the gradient is {@link depthwiseGradients}.
 * @param x [N, H, W, C]; filter [k, k, C, 1]. @returns [N, ⌊(H + 2p − k)/s⌋ + 1, …, C] (caller disposes).
 */
export function depthwiseConvolve(
  x: tf.Tensor4D,
  filter: tf.Tensor4D,
  stride: number,
  pad: number,
  composedGradients = !hasNativeGradients(),
): tf.Tensor4D {
  if (!composedGradients || !tf.engine().isTapeOn()) return tf.depthwiseConv2d(x, filter, stride, explicitPadding(pad));
  const convolve = tf.customGrad(((input: tf.Tensor4D, weights: tf.Tensor4D, save: tf.GradSaveFunc) => {
    save([input, weights]);
    return {
      value: tf.depthwiseConv2d(input, weights, stride, explicitPadding(pad)),
      gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) =>
        tf.tidy(() => depthwiseGradients(saved[0] as tf.Tensor4D, saved[1] as tf.Tensor4D, dy, stride, pad)),
    };
  }) as unknown as CustomGradFunction);
  return convolve(x, filter) as tf.Tensor4D;
}
