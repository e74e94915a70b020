import { GEMM_COLUMNS, GEMM_KERNEL_BASE64, GEMM_ROWS } from './wasm/gemm-kernel';

type DotsKernel = (
  a: number, b: number, out: number, rows: number, cols: number,
  dim: number, k0: number, k1: number, outStride: number, accumulate: number,
) => void;

/** Depth of one pass over the feature dimension: keeps a query panel in L1 and a gallery tile in L2. */
const DEPTH_BLOCK = 512;
/** Gallery rows per tile (a multiple of GEMM_COLUMNS). */
const GALLERY_TILE = 96;
const PAGE_BYTES = 65536;

/** The parts of the WebAssembly API used here (declared locally: @types/node 20 does not type the global). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> };
}
const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

let compiled: object | null | undefined;

/** The SIMD kernel, compiled once per process; null when this runtime has no WebAssembly SIMD. */
function kernelModule(): object | null {
  if (compiled === undefined) {
    const bytes = Buffer.from(GEMM_KERNEL_BASE64, 'base64');
    compiled = wasm !== undefined && wasm.validate(bytes) ? new wasm.Module(bytes) : null;
  }
  return compiled;
}

/**
 * Dot products of query rows against a fixed gallery, `out[i, j] = Σ_d query[i, d] · gallery[j, d]`, with a
 * WebAssembly SIMD kernel (about 30 GFLOP/s on one core of a current x86-64 CPU) or a plain JS fallback.
 * The gallery is copied once into the kernel's memory (G × D float32); each call handles one block of queries.
 */
export class GalleryDotProducts {
  readonly gallerySize: number;
  readonly dim: number;
  private readonly paddedDim: number;
  private readonly paddedGallery: number;
  private gallery: Float32Array;
  private readonly kernel: { dots: DotsKernel; memory: WasmMemory } | null;
  private queryCapacity = 0;

  /** @param gallery [G, D] row-major. */
  constructor(gallery: Float32Array, dim: number) {
    this.dim = dim;
    this.gallerySize = gallery.length / dim;
    this.paddedDim = Math.ceil(dim / 4) * 4;
    this.paddedGallery = Math.ceil(this.gallerySize / GEMM_COLUMNS) * GEMM_COLUMNS;
    const module = kernelModule();
    if (module === null) {
      this.kernel = null;
      this.gallery = gallery;
      return;
    }
    const instance = new (wasm as WasmApi).Instance(module, {});
    const memory = instance.exports.memory as WasmMemory;
    this.kernel = { dots: instance.exports.dots as DotsKernel, memory };
    this.ensureMemory(GEMM_ROWS * 32);
    this.gallery = new Float32Array(memory.buffer, 0, this.paddedGallery * this.paddedDim);
    copyPadded(gallery, this.gallerySize, dim, this.gallery, this.paddedDim);
  }

  /**
   * @param queries [n, D] row-major.
   * @param out receives [n, G] row-major.
   */
  compute(queries: Float32Array, out: Float32Array): void {
    const rows = queries.length / this.dim;
    if (this.kernel === null) {
      dotsFallback(queries, rows, this.gallery, this.gallerySize, this.dim, out);
      return;
    }
    const paddedRows = Math.ceil(rows / GEMM_ROWS) * GEMM_ROWS;
    this.ensureMemory(paddedRows);
    const { dots, memory } = this.kernel;
    const galleryBytes = this.paddedGallery * this.paddedDim * 4;
    const queryPointer = galleryBytes;
    const outPointer = queryPointer + this.queryCapacity * this.paddedDim * 4;
    const queryView = new Float32Array(memory.buffer, queryPointer, paddedRows * this.paddedDim);
    queryView.fill(0);
    copyPadded(queries, rows, this.dim, queryView, this.paddedDim);
    for (let k0 = 0; k0 < this.paddedDim; k0 += DEPTH_BLOCK) {
      const k1 = Math.min(this.paddedDim, k0 + DEPTH_BLOCK);
      for (let j0 = 0; j0 < this.paddedGallery; j0 += GALLERY_TILE) {
        const columns = Math.min(GALLERY_TILE, this.paddedGallery - j0);
        dots(queryPointer, j0 * this.paddedDim * 4, outPointer + j0 * 4, paddedRows, columns, this.paddedDim, k0, k1, this.paddedGallery, k0 > 0 ? 1 : 0);
      }
    }
    const result = new Float32Array(memory.buffer, outPointer, paddedRows * this.paddedGallery);
    if (this.paddedGallery === this.gallerySize) out.set(result.subarray(0, rows * this.gallerySize));
    else for (let i = 0; i < rows; i++) out.set(result.subarray(i * this.paddedGallery, i * this.paddedGallery + this.gallerySize), i * this.gallerySize);
  }

  /** Grows the kernel memory so that a block of `rows` queries and its output fit. */
  private ensureMemory(rows: number): void {
    if (this.kernel === null || rows <= this.queryCapacity) return;
    const capacity = Math.max(rows, this.queryCapacity * 2);
    const bytes = (this.paddedGallery + capacity) * this.paddedDim * 4 + capacity * this.paddedGallery * 4;
    const { memory } = this.kernel;
    const missing = Math.ceil((bytes - memory.buffer.byteLength) / PAGE_BYTES);
    if (missing > 0) memory.grow(missing);
    // Growing detaches the old buffer (contents are kept): re-create the gallery view.
    if (missing > 0) this.gallery = new Float32Array(memory.buffer, 0, this.paddedGallery * this.paddedDim);
    this.queryCapacity = capacity;
  }
}

function copyPadded(source: Float32Array, rows: number, dim: number, target: Float32Array, paddedDim: number): void {
  if (paddedDim === dim) {
    target.set(source.subarray(0, rows * dim));
    return;
  }
  for (let i = 0; i < rows; i++) target.set(source.subarray(i * dim, (i + 1) * dim), i * paddedDim);
}

/** Plain JS kernel for runtimes without WebAssembly SIMD. */
function dotsFallback(a: Float32Array, rows: number, b: Float32Array, cols: number, dim: number, out: Float32Array): void {
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
