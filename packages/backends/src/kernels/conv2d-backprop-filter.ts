import { backend_util } from '@tensorflow/tfjs-core';
import type { Conv2DBackpropFilterAttrs, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { withKernelScope } from './kernel-scope';

/**
 * Creates a `Conv2DBackpropFilter` kernel for `backendName` built from that backend's own fast forward `Conv2D`
 * (XNNPACK on wasm), following stack-notes §4.2:
 *
 * dW[kh, kw, ci, co] = Σ_{n, oh, ow} xPadded[n, oh·s + kh, ow·s + kw, ci] · dy[n, oh, ow, co]
 *
 * is one convolution of x transposed to `[ci, H, W, n]` (batch = ci, channels = n) with dy transposed to
 * `[OH, OW, n, co]` as the filter, stride 1 and dilation = the original stride, padded so that the output is
 * exactly `[kh, kw]`; a final transpose gives `[kh, kw, ci, co]`. NHWC and NCHW inputs are both accepted.
 * Inputs: `x` `[N, H, W, Ci]` (or `[N, Ci, H, W]`), `dy` `[N, OH, OW, Co]` (or `[N, Co, OH, OW]`).
 */
export function createConv2DBackpropFilterKernel(backendName: string): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
    const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as Conv2DBackpropFilterAttrs;
    const channelsLast = dataFormat !== 'NCHW';
    const info = backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      filterShape,
      strides,
      1,
      pad,
      dimRoundingMode,
      false,
      backend_util.convertConv2DDataFormat(dataFormat),
    );
    const { filterHeight, filterWidth, inHeight, inWidth, outHeight, outWidth, strideHeight, strideWidth, padInfo } =
      info;
    return withKernelScope(backend, backendName, (run) => {
      // x → [ci, H, W, n]; dy → [OH, OW, n, co].
      let input = run('Transpose', { x }, { perm: channelsLast ? [3, 1, 2, 0] : [1, 2, 3, 0] });
      const filter = run('Transpose', { x: dy }, { perm: channelsLast ? [1, 2, 0, 3] : [2, 3, 0, 1] });
      // Rows the strided window touches: (kh − 1) + (OH − 1)·s + 1, starting at −top.
      let bottom = filterHeight + (outHeight - 1) * strideHeight - inHeight - padInfo.top;
      let right = filterWidth + (outWidth - 1) * strideWidth - inWidth - padInfo.left;
      if (bottom < 0 || right < 0) {
        // Trailing rows/columns the forward conv never read: drop them instead of padding negatively.
        const [ci, , , n] = input.shape as [number, number, number, number];
        input = run(
          'Slice',
          { x: input },
          {
            begin: [0, 0, 0, 0],
            size: [ci, inHeight + Math.min(bottom, 0), inWidth + Math.min(right, 0), n],
          },
        );
        bottom = Math.max(bottom, 0);
        right = Math.max(right, 0);
      }
      const grad = run(
        'Conv2D',
        { x: input, filter },
        {
          strides: [1, 1],
          pad: [
            [0, 0],
            [padInfo.top, bottom],
            [padInfo.left, right],
            [0, 0],
          ],
          dataFormat: 'NHWC',
          dilations: [strideHeight, strideWidth],
          dimRoundingMode: undefined,
        },
      );
      // [ci, kh, kw, co] → [kh, kw, ci, co]
      return run('Transpose', { x: grad }, { perm: [1, 2, 0, 3] });
    });
  };
}
