import {
  CallList,
  hardwareThreads,
  instantiateWasmKernel,
  runOnThreads,
  type SharedWasmKernel,
  type WasmMemory,
} from '@vkd/core/wasm';
import { GEMM_COLUMNS, GEMM_KERNEL_BASE64, GEMM_ROWS, GEMM_SHARED_KERNEL_BASE64 } from './wasm/gemm-kernel';

type DotsKernel = (
  a: number,
  b: number,
  out: number,
  rows: number,
  cols: number,
  dim: number,
  k0: number,
  k1: number,
  outStride: number,
  accumulate: number,
) => void;

/** Depth of one pass over the feature dimension: keeps a query panel in L1 and a gallery tile in L2. */
const DEPTH_BLOCK = 1024;
/** Gallery rows per tile (a multiple of GEMM_COLUMNS). */
const GALLERY_TILE = 48;
const PAGE_BYTES = 65536;
/** Below this many multiply-adds per call, waking worker threads costs more than it saves. */
const PARALLEL_MIN_WORK = 2e7;

/** Options of `GalleryDotProducts`. */
export interface DotProductOptions {
  /** Threads used for large blocks (the calling thread included). Default: the number of hardware threads. */
  readonly threads?: number;
  /** Scales applied to the gallery rows as they are copied into the kernel's memory (e.g. 1/‖row‖), [G]. */
  readonly rowScales?: Float64Array;
}

/**
 * Dot products of query rows against a fixed gallery, `out[i, j] = Σ_d query[i, d] · gallery[j, d]`, with a
 * WebAssembly SIMD kernel (about 40–45 GFLOP/s per core on a current x86-64 CPU), split over worker threads for
 * large blocks, or a plain JS fallback. The gallery is copied once into the kernel's memory (G × D float32); each
 * call handles one block of queries.
 */
export class GalleryDotProducts {
  readonly gallerySize: number;
  readonly dim: number;
  private readonly paddedDim: number;
  private readonly paddedGallery: number;
  private readonly threads: number;
  private gallery: Float32Array;
  private readonly kernel: { dots: DotsKernel; memory: WasmMemory; shared: SharedWasmKernel | null } | null;
  private queryCapacity = 0;

  /** @param gallery [G, D] row-major. */
  constructor(gallery: Float32Array, dim: number, options: DotProductOptions = {}) {
    this.dim = dim;
    this.gallerySize = gallery.length / dim;
    this.paddedDim = Math.ceil(dim / 4) * 4;
    this.paddedGallery = Math.ceil(this.gallerySize / GEMM_COLUMNS) * GEMM_COLUMNS;
    const kernel = instantiateWasmKernel({
      module: GEMM_KERNEL_BASE64,
      sharedModule: GEMM_SHARED_KERNEL_BASE64,
      threads: options.threads ?? hardwareThreads(),
      functions: ['dots'],
    });
    this.threads = kernel?.threads ?? 1;
    if (kernel === null) {
      this.kernel = null;
      this.gallery =
        options.rowScales === undefined
          ? gallery
          : scaleRows(gallery, dim, options.rowScales, new Float32Array(gallery.length), dim);
      return;
    }
    const { memory } = kernel;
    this.kernel = { dots: kernel.exports.dots as DotsKernel, memory, shared: kernel.shared };
    this.ensureMemory(GEMM_ROWS * 32);
    this.gallery = new Float32Array(memory.buffer, 0, this.paddedGallery * this.paddedDim);
    if (options.rowScales === undefined) copyPadded(gallery, this.gallerySize, dim, this.gallery, this.paddedDim);
    else scaleRows(gallery, dim, options.rowScales, this.gallery, this.paddedDim);
  }

  /**
   * @param queries [n, D] row-major.
   * @param out receives [n, G] row-major: `offset + scale · dot` (cosine distance is offset 1, scale −1).
   */
  compute(queries: Float32Array, out: Float32Array, offset = 0, scale = 1): void {
    const rows = queries.length / this.dim;
    if (this.kernel === null) {
      dotsFallback(queries, rows, this.gallery, this.gallerySize, this.dim, out);
      if (offset !== 0 || scale !== 1)
        for (let k = 0; k < rows * this.gallerySize; k++) out[k] = offset + scale * (out[k] as number);
      return;
    }
    const paddedRows = Math.ceil(rows / GEMM_ROWS) * GEMM_ROWS;
    this.ensureMemory(paddedRows);
    const { memory } = this.kernel;
    const queryPointer = this.paddedGallery * this.paddedDim * 4;
    const outPointer = queryPointer + this.queryCapacity * this.paddedDim * 4;
    const queryView = new Float32Array(memory.buffer, queryPointer, paddedRows * this.paddedDim);
    queryView.fill(0);
    copyPadded(queries, rows, this.dim, queryView, this.paddedDim);

    const work = paddedRows * this.paddedGallery * this.paddedDim;
    const shareCount =
      this.kernel.shared !== null && work >= PARALLEL_MIN_WORK ? Math.min(this.threads, paddedRows / GEMM_ROWS) : 1;
    const rowsPerShare = Math.ceil(paddedRows / shareCount / GEMM_ROWS) * GEMM_ROWS;
    const shares: CallList[] = [];
    for (let start = 0; start < paddedRows; start += rowsPerShare) {
      shares.push(
        this.calls(
          queryPointer + start * this.paddedDim * 4,
          outPointer + start * this.paddedGallery * 4,
          Math.min(rowsPerShare, paddedRows - start),
        ),
      );
    }
    const dots = [this.kernel.dots];
    const runLocal = (share: CallList) => share.runWith(dots);
    if (shares.length === 1 || this.kernel.shared === null) shares.forEach(runLocal);
    else runOnThreads(this.kernel.shared, shares, runLocal);

    const result = new Float32Array(memory.buffer, outPointer, paddedRows * this.paddedGallery);
    const G = this.gallerySize;
    if (offset === 0 && scale === 1) {
      if (this.paddedGallery === G) out.set(result.subarray(0, rows * G));
      else
        for (let i = 0; i < rows; i++)
          out.set(result.subarray(i * this.paddedGallery, i * this.paddedGallery + G), i * G);
      return;
    }
    for (let i = 0; i < rows; i++) {
      const from = i * this.paddedGallery;
      const to = i * G;
      for (let j = 0; j < G; j++) out[to + j] = offset + scale * (result[from + j] as number);
    }
  }

  /** The kernel calls for one share of query rows: passes over the depth, tiles over the gallery. */
  private calls(aPointer: number, outPointer: number, rows: number): CallList {
    const list = new CallList();
    const dim = this.paddedDim;
    const cols = this.paddedGallery;
    for (let k0 = 0; k0 < dim; k0 += DEPTH_BLOCK) {
      const k1 = Math.min(dim, k0 + DEPTH_BLOCK);
      for (let j0 = 0; j0 < cols; j0 += GALLERY_TILE) {
        list.call(0, [
          aPointer,
          j0 * dim * 4,
          outPointer + j0 * 4,
          rows,
          Math.min(GALLERY_TILE, cols - j0),
          dim,
          k0,
          k1,
          cols,
          k0 > 0 ? 1 : 0,
        ]);
      }
    }
    return list;
  }

  /** Grows the kernel memory so that a block of `rows` queries and its output fit. */
  private ensureMemory(rows: number): void {
    if (this.kernel === null || rows <= this.queryCapacity) return;
    const capacity = Math.max(rows, this.queryCapacity * 2);
    const bytes = (this.paddedGallery + capacity) * this.paddedDim * 4 + capacity * this.paddedGallery * 4;
    const { memory } = this.kernel;
    const missing = Math.ceil((bytes - memory.buffer.byteLength) / PAGE_BYTES);
    if (missing > 0) {
      memory.grow(missing);
      // Growing replaces the buffer (contents are kept): re-create the gallery view.
      this.gallery = new Float32Array(memory.buffer, 0, this.paddedGallery * this.paddedDim);
    }
    this.queryCapacity = capacity;
  }
}

/** target row i (stride `targetDim`) = source row i · scales[i]. */
function scaleRows(
  source: Float32Array,
  dim: number,
  scales: Float64Array,
  target: Float32Array,
  targetDim: number,
): Float32Array {
  for (let i = 0; i < scales.length; i++) {
    const scale = scales[i] as number;
    const from = i * dim;
    const to = i * targetDim;
    for (let d = 0; d < dim; d++) target[to + d] = (source[from + d] as number) * scale;
  }
  return target;
}

function copyPadded(source: Float32Array, rows: number, dim: number, target: Float32Array, paddedDim: number): void {
  if (paddedDim === dim) {
    target.set(source.subarray(0, rows * dim));
    return;
  }
  for (let i = 0; i < rows; i++) target.set(source.subarray(i * dim, (i + 1) * dim), i * paddedDim);
}

/** Plain JS kernel for runtimes without WebAssembly SIMD. */
function dotsFallback(
  a: Float32Array,
  rows: number,
  b: Float32Array,
  cols: number,
  dim: number,
  out: Float32Array,
): void {
  for (let i = 0; i < rows; i++) {
    const ai = i * dim;
    for (let j = 0; j < cols; j++) {
      const bj = j * dim;
      let sum = 0;
      for (let d = 0; d < dim; d++) sum += (a[ai + d] as number) * (b[bj + d] as number);
      out[i * cols + j] = sum;
    }
  }
}
