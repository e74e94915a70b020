import { backend_util } from '@tensorflow/tfjs-core';
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { InvalidOptionError } from '@vkd/core';
import { CONV_COLUMNS } from './wasm-conv-kernel';
import { MAX_CONV_CHANNELS, WasmConvEngine, type ConvShape } from './wasm-conv-engine';

/** The parts of the wasm backend class used to create outputs and view tensors on its heap (not in KernelBackend). */
interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: string): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array;
}

let engine: WasmConvEngine | null | undefined;
let requestedThreads: number | undefined;

/** The process-wide convolution engine (created on first use), or null without WebAssembly SIMD. */
function getEngine(): WasmConvEngine | null {
  if (engine === undefined) engine = WasmConvEngine.create(requestedThreads);
  return engine;
}

/**
 * Sets the number of threads (the calling thread included) the wasm convolution kernels use; the default is the
 * number of hardware threads (`os.availableParallelism()`). Takes effect on the next convolution.
 * @throws InvalidOptionError unless `threads` is a positive integer.
 */
export function setConvolutionThreads(threads: number): void {
  if (!Number.isInteger(threads) || threads < 1) {
    throw new InvalidOptionError(
      'threads',
      threads,
      'a positive integer (threads used by the wasm convolution kernels)',
    );
  }
  requestedThreads = threads;
  engine = undefined;
}

/** Threads the wasm convolution kernels use (1 when worker threads or WebAssembly SIMD are unavailable). */
export function convolutionThreads(): number {
  return getEngine()?.threads ?? 1;
}

function heapBackend(backend: unknown): WasmHeapBackend {
  return backend as WasmHeapBackend;
}

function toShape(info: backend_util.Conv2DInfo): ConvShape {
  return {
    batch: info.batchSize,
    inHeight: info.inHeight,
    inWidth: info.inWidth,
    inChannels: info.inChannels,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    outChannels: info.outChannels,
    filterHeight: info.filterHeight,
    filterWidth: info.filterWidth,
    strideHeight: info.strideHeight,
    strideWidth: info.strideWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  };
}

/**
 * Whether the SIMD kernels take this convolution: NHWC, float32, no dilation, channels within the kernels' limits
 * and a multiple of 8 along the kernel's output columns (`columns`: Co forward and for dW, Ci for dx).
 */
function takes(info: backend_util.Conv2DInfo, columns: number, ...tensors: TensorInfo[]): boolean {
  return (
    info.dataFormat === 'channelsLast' &&
    info.dilationHeight === 1 &&
    info.dilationWidth === 1 &&
    columns % CONV_COLUMNS === 0 &&
    Math.max(info.inChannels, info.outChannels) <= MAX_CONV_CHANNELS &&
    tensors.every((t) => t.dtype === 'float32') &&
    info.outHeight > 0 &&
    info.outWidth > 0
  );
}

type ConvAttrs = {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dataFormat?: 'NHWC' | 'NCHW';
  dilations?: [number, number] | number;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
};

function forwardInfo(x: TensorInfo, filter: TensorInfo, attrs: ConvAttrs): backend_util.Conv2DInfo {
  return backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    attrs.strides,
    attrs.dilations ?? 1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    backend_util.convertConv2DDataFormat(attrs.dataFormat ?? 'NHWC'),
  );
}

/**
 * `Conv2D` (and `FusedConv2D` without bias or activation) on the SIMD engine; other cases go to `fallback`.
 * Inputs: x `[N, H, W, Ci]`, filter `[kh, kw, Ci, Co]`; output `[N, OH, OW, Co]`.
 */
export function createWasmConv2DKernel(fallback: KernelFunc): KernelFunc {
  return (args) => {
    const { x, filter, bias, preluActivationWeights } = args.inputs as Record<string, TensorInfo | undefined>;
    const attrs = args.attrs as unknown as ConvAttrs & { activation?: string };
    if (x === undefined || filter === undefined || bias != null || preluActivationWeights != null)
      return fallback(args);
    if (attrs.activation !== undefined && attrs.activation !== 'linear') return fallback(args);
    const info = forwardInfo(x, filter, attrs);
    const conv = getEngine();
    if (conv === null || !takes(info, info.outChannels, x, filter)) return fallback(args);
    const backend = heapBackend(args.backend);
    const out = backend.makeOutput(info.outShape, 'float32');
    conv.forward(
      toShape(info),
      backend.typedArrayFromHeap(x),
      backend.typedArrayFromHeap(filter),
      backend.typedArrayFromHeap(out),
    );
    return out;
  };
}

/**
 * `Conv2DBackpropInput` on the SIMD engine (stride² phases, no work on inserted zeros); other cases go to
 * `fallback`. Inputs: dy `[N, OH, OW, Co]`, filter `[kh, kw, Ci, Co]`; output dx `[N, H, W, Ci]`.
 */
export function createWasmConv2DBackpropInputKernel(fallback: KernelFunc): KernelFunc {
  return (args) => {
    const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
    const attrs = args.attrs as unknown as ConvAttrs & { inputShape: [number, number, number, number] };
    if (attrs.dataFormat === 'NCHW') return fallback(args);
    const info = backend_util.computeConv2DInfo(
      attrs.inputShape,
      filter.shape as [number, number, number, number],
      attrs.strides,
      1,
      attrs.pad,
      attrs.dimRoundingMode,
      false,
      'channelsLast',
    );
    const conv = getEngine();
    if (conv === null || !takes(info, info.inChannels, dy, filter)) return fallback(args);
    const backend = heapBackend(args.backend);
    const dx = backend.makeOutput([...attrs.inputShape], 'float32');
    conv.inputGradient(
      toShape(info),
      backend.typedArrayFromHeap(dy),
      backend.typedArrayFromHeap(filter),
      backend.typedArrayFromHeap(dx),
    );
    return dx;
  };
}

/**
 * `Conv2DBackpropFilter` on the SIMD engine; other cases go to `fallback`.
 * Inputs: x `[N, H, W, Ci]`, dy `[N, OH, OW, Co]`; output dW `[kh, kw, Ci, Co]`.
 */
export function createWasmConv2DBackpropFilterKernel(fallback: KernelFunc): KernelFunc {
  return (args) => {
    const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
    const attrs = args.attrs as unknown as ConvAttrs & { filterShape: [number, number, number, number] };
    if (attrs.dataFormat === 'NCHW') return fallback(args);
    const info = backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      attrs.filterShape,
      attrs.strides,
      1,
      attrs.pad,
      attrs.dimRoundingMode,
      false,
      'channelsLast',
    );
    const conv = getEngine();
    if (conv === null || !takes(info, info.outChannels, x, dy)) return fallback(args);
    const backend = heapBackend(args.backend);
    const dW = backend.makeOutput([...attrs.filterShape], 'float32');
    conv.filterGradient(
      toShape(info),
      backend.typedArrayFromHeap(x),
      backend.typedArrayFromHeap(dy),
      backend.typedArrayFromHeap(dW),
    );
    return dW;
  };
}

/**
 * `BatchMatMul` of one row by one matrix (`[1, K] · [K, N]` with every batch dimension 1, no transposes, N a
 * multiple of 4) — BatchNorm's column sums `ones · x` and their gradients — on the SIMD engine: XNNPACK packs the
 * whole `[K, N]` matrix on every call. Other products go to `fallback`.
 */
export function createWasmBatchMatMulKernel(fallback: KernelFunc): KernelFunc {
  return (args) => {
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    const { transposeA, transposeB } = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
    const rows = a.shape[a.shape.length - 1] as number;
    const cols = b.shape[b.shape.length - 1] as number;
    const conv = getEngine();
    const oneRow = a.shape.length >= 2 && a.shape.slice(0, -1).every((d) => d === 1);
    const oneMatrix =
      b.shape.length >= 2 && b.shape.slice(0, -2).every((d) => d === 1) && b.shape[b.shape.length - 2] === rows;
    if (
      conv === null ||
      transposeA ||
      transposeB ||
      !oneRow ||
      !oneMatrix ||
      cols % 4 !== 0 ||
      rows === 0 ||
      cols === 0 ||
      a.dtype !== 'float32' ||
      b.dtype !== 'float32'
    ) {
      return fallback(args);
    }
    const batchShape = (a.shape.length >= b.shape.length ? a.shape : b.shape).slice(0, -2);
    const backend = heapBackend(args.backend);
    const out = backend.makeOutput([...batchShape, 1, cols], 'float32');
    conv.rowTimesMatrix(
      backend.typedArrayFromHeap(a),
      backend.typedArrayFromHeap(b),
      rows,
      cols,
      backend.typedArrayFromHeap(out),
    );
    return out;
  };
}

/**
 * `MaxPoolGrad` on the SIMD engine for float32 NHWC maps, routing each gradient to the
 * FIRST maximum of its window (PyTorch's and tfjs-cpu's rule; tfjs-wasm's own kernel picks another one on ties, e.g.
 * the zeros a ReLU leaves, and it misroutes a few gradients of a 9×9×3 'same'-padded map). Other dtypes go to
 * `fallback`.
 * Inputs: dy `[N, OH, OW, C]`, input `[N, H, W, C]`.
 */
export function createWasmMaxPoolGradKernel(fallback: KernelFunc): KernelFunc {
  return (args) => {
    const { dy, input } = args.inputs as { dy: TensorInfo; input: TensorInfo };
    const { filterSize, strides, pad, dimRoundingMode } = args.attrs as unknown as {
      filterSize: [number, number] | number;
      strides: [number, number] | number;
      pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
      dimRoundingMode?: 'floor' | 'round' | 'ceil';
    };
    const conv = getEngine();
    if (conv === null || input.shape.length !== 4 || input.dtype !== 'float32' || dy.dtype !== 'float32')
      return fallback(args);
    const info = backend_util.computePool2DInfo(
      input.shape as [number, number, number, number],
      filterSize,
      strides,
      1,
      pad,
      dimRoundingMode,
    );
    if (info.outHeight <= 0 || info.outWidth <= 0) return fallback(args);
    const backend = heapBackend(args.backend);
    const dx = backend.makeOutput([...input.shape], 'float32');
    conv.maxPoolGradient(
      toShape(info),
      backend.typedArrayFromHeap(input),
      backend.typedArrayFromHeap(dy),
      backend.typedArrayFromHeap(dx),
    );
    return dx;
  };
}
