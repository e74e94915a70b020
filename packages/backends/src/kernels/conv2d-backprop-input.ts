import { backend_util } from '@tensorflow/tfjs-core';
import type { Conv2DBackpropInputAttrs, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { allocateFloat32, withKernelScope } from './kernel-scope';

/**
 * Below this many input pixels (N·H·W of dx) the original kernel is used: re-packing a large filter for XNNPACK
 * costs more than the small convolution saves (stack-notes §4.2).
 */
export const MIN_PIXELS_FOR_FAST_INPUT_GRADIENT = 128;

/**
 * One phase of a strided transposed convolution along one axis: the input rows `offset, offset + s, …` (`length`
 * of them) receive the filter taps `first, first + s, …` (`taps` of them) and form a stride-1 correlation of dy
 * padded by `before`/`after` (negative = crop) with those taps reversed.
 */
export interface Phase {
  readonly offset: number;
  readonly length: number;
  readonly first: number;
  readonly taps: number;
  readonly before: number;
  readonly after: number;
}

/**
 * Splits one spatial axis of dx into its `stride` phases.
 * dx[q·s + a] = Σ_j dy[q + c − j] · w[r + j·s] with r = (a + pad) mod s and c = (a + pad − r) / s.
 * @param size input size (H), `kernel` filter size, `pad` leading padding, `outSize` dy size (OH).
 */
export function axisPhases(size: number, kernel: number, stride: number, pad: number, outSize: number): Phase[] {
  return Array.from({ length: stride }, (_, offset) => {
    const length = offset < size ? Math.ceil((size - offset) / stride) : 0;
    const first = (offset + pad) % stride;
    const taps = first < kernel ? Math.ceil((kernel - first) / stride) : 0;
    const shift = (offset + pad - first) / stride;
    const before = taps - 1 - shift;
    return { offset, length, first, taps, before, after: length + taps - 1 - outSize - before };
  });
}

/** Taps of one phase pair, rotated by 180° with channels swapped: `[Jh, Jw, Co, Ci]` from the filter `[kh, kw, Ci, Co]`. */
function phaseFilter(filter: TensorInfo, rows: Phase, cols: Phase, stride: [number, number]) {
  const [, kw, ci, co] = filter.shape as [number, number, number, number];
  return (out: Float32Array, read: (info: TensorInfo) => Float32Array) => {
    const w = read(filter);
    let target = 0;
    for (let jh = 0; jh < rows.taps; jh++) {
      const h = rows.first + (rows.taps - 1 - jh) * stride[0];
      for (let jw = 0; jw < cols.taps; jw++) {
        const tap = (h * kw + cols.first + (cols.taps - 1 - jw) * stride[1]) * ci * co;
        for (let o = 0; o < co; o++) {
          for (let i = 0; i < ci; i++) out[target++] = w[tap + i * co + o]!;
        }
      }
    }
  };
}

/**
 * Creates a `Conv2DBackpropInput` kernel for `backendName` made of the backend's forward `Conv2D`: for each of the
 * stride² phases (sub-pixel decomposition), dy `[N, OH, OW, Co]` is convolved with that phase's taps of the filter
 * rotated by 180° (`[Jh, Jw, Co, Ci]`), and the phases are interleaved into dx `[N, H, W, Ci]`. Unlike zero-insertion,
 * no multiply-adds are spent on inserted zeros. NCHW and small inputs go to `fallback` (the original kernel).
 */
export function createConv2DBackpropInputKernel(backendName: string, fallback: KernelFunc): KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args;
    const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
    const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as Conv2DBackpropInputAttrs;
    const [batch, inHeight, inWidth, inChannels] = inputShape;
    if (dataFormat === 'NCHW' || batch * inHeight * inWidth < MIN_PIXELS_FOR_FAST_INPUT_GRADIENT) return fallback(args);
    const info = backend_util.computeConv2DInfo(
      inputShape,
      filter.shape as [number, number, number, number],
      strides,
      1,
      pad,
      dimRoundingMode,
      false,
      'channelsLast',
    );
    const stride: [number, number] = [info.strideHeight, info.strideWidth];
    const rowPhases = axisPhases(inHeight, info.filterHeight, stride[0], info.padInfo.top, info.outHeight);
    const colPhases = axisPhases(inWidth, info.filterWidth, stride[1], info.padInfo.left, info.outWidth);
    return withKernelScope(backend, backendName, (run, track, kernelBackend) => {
      const parts: Array<{ rows: Phase; cols: Phase; dx: TensorInfo }> = [];
      for (const rows of rowPhases) {
        for (const cols of colPhases) {
          if (rows.taps === 0 || cols.taps === 0 || rows.length === 0 || cols.length === 0) continue; // all zeros
          const taps = track(
            allocateFloat32(
              kernelBackend,
              [rows.taps, cols.taps, info.outChannels, inChannels],
              phaseFilter(filter, rows, cols, stride),
            ),
          );
          let dx = run(
            'Conv2D',
            { x: dy, filter: taps },
            {
              strides: [1, 1],
              pad: [
                [0, 0],
                [Math.max(rows.before, 0), Math.max(rows.after, 0)],
                [Math.max(cols.before, 0), Math.max(cols.after, 0)],
                [0, 0],
              ],
              dataFormat: 'NHWC',
              dilations: [1, 1],
              dimRoundingMode: undefined,
            },
          );
          if (dx.shape[1] !== rows.length || dx.shape[2] !== cols.length) {
            dx = run(
              'Slice',
              { x: dx },
              {
                begin: [0, Math.max(-rows.before, 0), Math.max(-cols.before, 0), 0],
                size: [batch, rows.length, cols.length, inChannels],
              },
            );
          }
          parts.push({ rows, cols, dx });
        }
      }
      if (parts.length === 1 && stride[0] === 1 && stride[1] === 1) return parts[0]!.dx;
      // Interleave: dx[n, q·sh + a, p·sw + b, :] = phase(a, b)[n, q, p, :]; phases without taps stay zero.
      return allocateFloat32(kernelBackend, [...inputShape], (out, read) => {
        for (const { rows, cols, dx } of parts) {
          const values = read(dx);
          for (let n = 0; n < batch; n++) {
            for (let q = 0; q < rows.length; q++) {
              const rowStart = (n * inHeight + q * stride[0] + rows.offset) * inWidth;
              for (let p = 0; p < cols.length; p++) {
                const source = ((n * rows.length + q) * cols.length + p) * inChannels;
                out.set(
                  values.subarray(source, source + inChannels),
                  (rowStart + p * stride[1] + cols.offset) * inChannels,
                );
              }
            }
          }
        }
      });
    });
  };
}
