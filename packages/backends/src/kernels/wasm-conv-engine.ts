import {
  CallList,
  hardwareThreads,
  instantiateWasmKernel,
  runOnThreads,
  type SharedWasmKernel,
  type WasmKernelInstance,
  type WasmMemory,
} from '@vkd/core/wasm';
import { CONV_COLUMNS, CONV_KERNEL_BASE64, CONV_ROWS, CONV_SHARED_KERNEL_BASE64 } from './wasm-conv-kernel';

/** Geometry of one NHWC convolution with an HWIO filter (dilation 1). */
export interface ConvShape {
  readonly batch: number;
  readonly inHeight: number;
  readonly inWidth: number;
  readonly inChannels: number;
  readonly outHeight: number;
  readonly outWidth: number;
  readonly outChannels: number;
  readonly filterHeight: number;
  readonly filterWidth: number;
  readonly strideHeight: number;
  readonly strideWidth: number;
  /** Rows of zero padding above the input (the bottom is implied by outHeight). */
  readonly padTop: number;
  readonly padLeft: number;
}

type Kernel = (...args: number[]) => void;
const ROWS = 0;
const FILTER = 1;
const PACK = 2;
const PACK_TRANSPOSED = 3;
const GEMV = 4;
const PACK4 = 5;
const MAX_POOL_GRAD = 6;
const FUNCTIONS = ['rows', 'filter', 'pack', 'packTransposed', 'gemv', 'pack4', 'maxPoolGrad'] as const;
/** Below this many values of the matrix, a row-times-matrix product stays on the calling thread. */
const PARALLEL_MIN_VALUES = 1 << 20;
/** Rows per partial sum of a row-times-matrix product. */
const ROW_BLOCK = 256;
/** Bytes of one packed row of a panel (CONV_COLUMNS floats). */
const PANEL_ROW = CONV_COLUMNS * 4;

/** Zero floats at address 0: padding pixels point here (so channels ≤ ZERO_FLOATS − 4). */
const ZERO_FLOATS = 16384;
/** Output rows that pad a row count to a multiple of CONV_ROWS are written here (and dropped). */
const SCRATCH_OFFSET = ZERO_FLOATS * 4;
/** First byte of the per-call regions. */
const BASE = SCRATCH_OFFSET + ZERO_FLOATS * 4;
const PAGE_BYTES = 65536;
const MAX_PAGES = 65536;
/** Reduction depth of one pass (taps × channels): keeps a filter tile in L2. */
const DEPTH_BLOCK = 512;
/** Output channels per pass (a multiple of CONV_COLUMNS). */
const COLUMN_TILE = 64;
/** Chunks per thread when a convolution is split by output-channel panels (each chunk re-reads the whole input). */
const COLUMN_CHUNKS_PER_THREAD = 2;
/** Chunks per thread for the other splits (dynamic claiming evens out a thread slowed by other processes). */
const PANEL_CHUNKS_PER_THREAD = 4;
/** Below this many multiply-adds, waking worker threads costs more than it saves. */
const PARALLEL_MIN_WORK = 4e6;
/** Table layouts kept (per geometry); cleared when full. */
const MAX_CACHED_TABLES = 256;

/** The largest channel count the kernels take (a padding pixel must be that many zero floats). */
export const MAX_CONV_CHANNELS = ZERO_FLOATS - 4;

function roundUp(value: number, multiple: number): number {
  return Math.ceil(value / multiple) * multiple;
}

function shapeKey(role: string, s: ConvShape): string {
  return `${role}:${s.batch},${s.inHeight},${s.inWidth},${s.inChannels},${s.outHeight},${s.outWidth},${s.outChannels},${s.filterHeight},${s.filterWidth},${s.strideHeight},${s.strideWidth},${s.padTop},${s.padLeft}`;
}

/** Byte offsets of consecutive regions from BASE, each 64-byte aligned. */
function regions(bytes: readonly number[]): { offsets: number[]; end: number } {
  const offsets: number[] = [];
  let top = BASE;
  for (const size of bytes) {
    offsets.push(top);
    top += roundUp(size, 64);
  }
  return { offsets, end: top };
}

/** Even split of `count` units (panels, taps, …) into at most `parts` contiguous ranges. */
function split(count: number, parts: number): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  const size = Math.ceil(count / Math.max(1, Math.min(parts, count)));
  for (let start = 0; start < count; start += size) ranges.push([start, Math.min(count, start + size)]);
  return ranges;
}

/** Address tables of one convolution role, valid for the layout they were built with. */
interface Tables {
  /** Concatenated int32 tables, written at `offset`. */
  readonly words: Int32Array;
  readonly offset: number;
}

/** One phase of a transposed (input-gradient) convolution: the dx pixels at (h ≡ a, w ≡ b mod stride). */
interface Phase {
  readonly rows: number;
  readonly taps: ReadonlyArray<readonly [number, number]>;
  /** Byte offsets of this phase's A table, output table and filter taps. */
  readonly aTable: number;
  readonly outTable: number;
  readonly filter: number;
}

/**
 * Convolutions (forward, input gradient, filter gradient) on WebAssembly SIMD micro-kernels (~45 GFLOP/s per core
 * for the forward pass on a current x86-64 core, vs 12–20 for tfjs-wasm's XNNPACK build) with the work split over
 * worker threads on a shared memory. im2col is never materialised: JavaScript builds tables of pixel addresses
 * (cached per geometry) and the kernels read rows through them. Inputs and outputs are copied in and out of the
 * kernel memory (a few % of the arithmetic time).
 */
export class WasmConvEngine {
  private readonly functions: Kernel[];
  private readonly memory: WasmMemory;
  private readonly shared: SharedWasmKernel | null;
  private readonly tables = new Map<string, Tables>();
  private readonly phases = new Map<string, Phase[]>();
  private readonly offsets = new Map<string, Int32Array>();

  /** Threads per call (the calling thread included); 1 when worker threads are unavailable. */
  readonly threads: number;

  private constructor(kernel: WasmKernelInstance) {
    this.memory = kernel.memory;
    this.shared = kernel.shared;
    this.threads = kernel.threads;
    this.functions = FUNCTIONS.map((name) => kernel.exports[name] as Kernel);
  }

  /**
   * An engine using `threads` threads (default: the hardware threads), or null when this runtime has no
   * WebAssembly SIMD (callers then keep the backend's own kernels).
   */
  static create(threads = hardwareThreads()): WasmConvEngine | null {
    const kernel = instantiateWasmKernel({
      module: CONV_KERNEL_BASE64,
      sharedModule: CONV_SHARED_KERNEL_BASE64,
      threads,
      functions: FUNCTIONS,
      initialPages: BASE / PAGE_BYTES + 1,
    });
    return kernel === null ? null : new WasmConvEngine(kernel);
  }

  /**
   * out = conv(x, w).
   * @param x [N, H, W, Ci]; w [kh, kw, Ci, Co]; out receives [N, OH, OW, Co]. Co must be a multiple of 8.
   */
  forward(s: ConvShape, x: Float32Array, w: Float32Array, out: Float32Array): void {
    const taps = s.filterHeight * s.filterWidth;
    const rows = s.batch * s.outHeight * s.outWidth;
    const { tables, x: xAt, rest } = this.pixelTables(s);
    const depth = taps * s.inChannels;
    const [wAt, packedAt, outAt] = rest([
      depth * s.outChannels * 4,
      depth * s.outChannels * 4,
      rows * s.outChannels * 4,
    ]) as [number, number, number];
    this.writeTables(tables);
    this.f32().set(x, xAt / 4);
    this.f32().set(w, wAt / 4);
    const panels = roundUp(rows, CONV_ROWS) / CONV_ROWS;
    const work = rows * taps * s.inChannels * s.outChannels;
    const aTable = tables.offset;
    const outTable = aTable + panels * CONV_ROWS * taps * 4;
    // Each thread packs its own 8-channel filter panels and computes them for every output pixel: no serial packing.
    this.outputRows(outTable, rows, panels * CONV_ROWS, outAt, s.outChannels);
    this.parallel(s.outChannels / CONV_COLUMNS, this.shareCount(work), COLUMN_CHUNKS_PER_THREAD, (c0, c1, list) => {
      const [j0, j1] = [c0 * CONV_COLUMNS, c1 * CONV_COLUMNS];
      list.call(PACK, [wAt + j0 * 4, depth, s.outChannels, j1 - j0, packedAt + j0 * depth * 4]);
      this.rowPasses(list, {
        aTable,
        taps,
        seg: s.inChannels,
        filter: packedAt,
        depth,
        outTable,
        i0: 0,
        i1: panels * CONV_ROWS,
        j0,
        j1,
      });
    });
    out.set(this.f32().subarray(outAt / 4, outAt / 4 + rows * s.outChannels));
  }

  /**
   * dx = conv_transpose(dy, w): the gradient of `forward` with respect to x, by stride² phases (no multiply-adds on
   * inserted zeros).
   * @param dy [N, OH, OW, Co]; w [kh, kw, Ci, Co]; dx receives [N, H, W, Ci]. Ci must be a multiple of 8.
   */
  inputGradient(s: ConvShape, dy: Float32Array, w: Float32Array, dx: Float32Array): void {
    const { inChannels: ci, outChannels: co } = s;
    const dxSize = s.batch * s.inHeight * s.inWidth * ci;
    const key = shapeKey('dx', s);
    let phases = this.phases.get(key);
    let tables = this.tables.get(key);
    const layout = this.phaseLayout(s);
    const [dyAt, dxAt, wAt] = layout.data as [number, number, number];
    if (phases === undefined || tables === undefined) {
      ({ phases, tables } = this.buildPhaseTables(s, layout.tableOffset, dyAt, dxAt, layout.filterAt));
      this.remember(key, tables);
      this.phases.set(key, phases);
    }
    this.ensure(layout.end);
    this.writeTables(tables);
    const f32 = this.f32();
    f32.set(dy, dyAt / 4);
    f32.set(w, wAt / 4);
    const covered = phases.reduce((sum, phase) => sum + phase.rows, 0);
    if (covered < s.batch * s.inHeight * s.inWidth) f32.fill(0, dxAt / 4, dxAt / 4 + dxSize);
    const work = s.batch * s.outHeight * s.outWidth * s.filterHeight * s.filterWidth * ci * co;
    // Each thread owns a range of 8-channel dx panels: it transposes and packs those filter panels of every phase's
    // taps ([Co, Ci] per tap), then computes them for every dx pixel.
    this.parallel(ci / CONV_COLUMNS, this.shareCount(work), COLUMN_CHUNKS_PER_THREAD, (c0, c1, list) => {
      const [j0, j1] = [c0 * CONV_COLUMNS, c1 * CONV_COLUMNS];
      for (const phase of phases) {
        const panelStride = phase.taps.length * co * PANEL_ROW;
        phase.taps.forEach(([kh, kw], index) => {
          const tap = wAt + (kh * s.filterWidth + kw) * ci * co * 4;
          list.call(PACK_TRANSPOSED, [
            tap + j0 * co * 4,
            j1 - j0,
            co,
            phase.filter + c0 * panelStride + index * co * PANEL_ROW,
            panelStride,
          ]);
        });
      }
      for (const phase of phases) {
        this.rowPasses(list, {
          aTable: phase.aTable,
          taps: phase.taps.length,
          seg: co,
          filter: phase.filter,
          depth: phase.taps.length * co,
          outTable: phase.outTable,
          i0: 0,
          i1: roundUp(phase.rows, CONV_ROWS),
          j0,
          j1,
        });
      }
    });
    dx.set(this.f32().subarray(dxAt / 4, dxAt / 4 + dxSize));
  }

  /**
   * dw = Σ over output pixels of x patches ⊗ dy: the gradient of `forward` with respect to w.
   * @param x [N, H, W, Ci]; dy [N, OH, OW, Co]; dw receives [kh, kw, Ci, Co]. Co must be a multiple of 8.
   */
  filterGradient(s: ConvShape, x: Float32Array, dy: Float32Array, dw: Float32Array): void {
    const taps = s.filterHeight * s.filterWidth;
    const { inChannels: ci, outChannels: co } = s;
    const rows = s.batch * s.outHeight * s.outWidth;
    const pixels = s.batch * s.inHeight * s.inWidth;
    const ciPad = roundUp(ci, 4);
    // x packed in panels of 4 channels, each panel ending with one zero pixel (index `pixels`) for the padding.
    const panelStride = (pixels + 1) * 16;
    const table = this.offsetTable(s);
    const { offsets, end } = regions([
      table.length * 4,
      pixels * ci * 4 + 16,
      (ciPad / 4) * panelStride,
      rows * co * 4,
      rows * co * 4,
      taps * ciPad * co * 4,
    ]);
    const [tableAt, xAt, packedXAt, dyAt, packedAt, dwAt] = offsets as [number, number, number, number, number, number];
    this.ensure(end);
    new Int32Array(this.memory.buffer, tableAt, table.length).set(table);
    const f32 = this.f32();
    f32.set(x, xAt / 4);
    f32.set(dy, dyAt / 4);
    for (let group = 0; group < ciPad / 4; group++)
      f32.fill(
        0,
        (packedXAt + group * panelStride) / 4 + pixels * 4,
        (packedXAt + group * panelStride) / 4 + pixels * 4 + 4,
      );
    (this.functions[PACK] as Kernel)(dyAt, rows, co, co, packedAt);
    const count = this.shareCount(rows * taps * ci * co);
    const mBlock = Math.min(1024, Math.max(32, roundUp(Math.floor(65536 / (ci + co)), 16)));
    const byPanels = ciPad / 4 >= count * PANEL_CHUNKS_PER_THREAD;
    // Split by 4-channel panels of x, each chunk packing its own; by taps when there are too few panels (the stem).
    if (!byPanels) (this.functions[PACK4] as Kernel)(xAt, pixels, ci, ciPad / 4, packedXAt, panelStride);
    this.parallel(byPanels ? ciPad / 4 : taps, count, PANEL_CHUNKS_PER_THREAD, (u0, u1, list) => {
      const [t0, t1, r0, r1] = byPanels ? [0, taps, u0 * 4, u1 * 4] : [u0, u1, 0, ciPad];
      if (byPanels) list.call(PACK4, [xAt + u0 * 16, pixels, ci, u1 - u0, packedXAt + u0 * panelStride, panelStride]);
      for (let m0 = 0; m0 < rows; m0 += mBlock) {
        const m1 = Math.min(rows, m0 + mBlock);
        for (let t = t0; t < t1; t++) {
          list.call(FILTER, [
            tableAt,
            taps,
            t,
            packedXAt,
            panelStride,
            packedAt,
            PANEL_ROW,
            rows * 4,
            m0,
            m1,
            dwAt + t * ciPad * co * 4,
            co * 4,
            r0,
            r1,
            0,
            co,
            m0 > 0 ? 1 : 0,
          ]);
        }
      }
    });
    const result = this.f32().subarray(dwAt / 4, dwAt / 4 + taps * ciPad * co);
    if (ciPad === ci) dw.set(result);
    else for (let t = 0; t < taps; t++) dw.set(result.subarray(t * ciPad * co, t * ciPad * co + ci * co), t * ci * co);
  }

  /**
   * For each output pixel m and tap t, the byte offset (pixel index · 16) of the input pixel it reads within a
   * 4-channel panel of packed x, or of the zero pixel (index N·H·W) for padding. Cached per geometry.
   */
  private offsetTable(s: ConvShape): Int32Array {
    const key = shapeKey('offsets', s);
    const cached = this.offsets.get(key);
    if (cached !== undefined) return cached;
    const taps = s.filterHeight * s.filterWidth;
    const rows = s.batch * s.outHeight * s.outWidth;
    const zero = s.batch * s.inHeight * s.inWidth * 16;
    const table = new Int32Array(rows * taps);
    let k = 0;
    for (let m = 0; m < rows; m++) {
      const n = Math.floor(m / (s.outHeight * s.outWidth));
      const y = Math.floor(m / s.outWidth) % s.outHeight;
      const x = m % s.outWidth;
      for (let kh = 0; kh < s.filterHeight; kh++) {
        const row = y * s.strideHeight + kh - s.padTop;
        for (let kw = 0; kw < s.filterWidth; kw++) {
          const col = x * s.strideWidth + kw - s.padLeft;
          const inside = row >= 0 && row < s.inHeight && col >= 0 && col < s.inWidth;
          table[k++] = inside ? ((n * s.inHeight + row) * s.inWidth + col) * 16 : zero;
        }
      }
    }
    if (this.offsets.size >= MAX_CACHED_TABLES) this.offsets.clear();
    this.offsets.set(key, table);
    return table;
  }

  /**
   * dx = the gradient of a max pool: each dy value goes to the first maximum (row-major, strict >) of its window of
   * x, as PyTorch and tfjs' cpu backend route it. Channels are split over threads (windows overlap in space only).
   * @param s the pool's geometry (`inChannels` = `outChannels` = C; `filter*` = window size).
   * @param x [N, H, W, C]; dy [N, OH, OW, C]; dx receives [N, H, W, C].
   */
  maxPoolGradient(s: ConvShape, x: Float32Array, dy: Float32Array, dx: Float32Array): void {
    const c = s.inChannels;
    // Channels padded to a multiple of 4 (the padded lanes are computed and dropped).
    const cPad = roundUp(c, 4);
    const pixels = x.length / c;
    const outPixels = dy.length / c;
    const { offsets, end } = regions([pixels * cPad * 4, outPixels * cPad * 4, pixels * cPad * 4]);
    const [xAt, dyAt, dxAt] = offsets as [number, number, number];
    this.ensure(end);
    const f32 = this.f32();
    const copyIn = (values: Float32Array, count: number, at: number) => {
      if (cPad === c) f32.set(values, at / 4);
      else for (let p = 0; p < count; p++) f32.set(values.subarray(p * c, p * c + c), at / 4 + p * cPad);
    };
    copyIn(x, pixels, xAt);
    copyIn(dy, outPixels, dyAt);
    f32.fill(0, dxAt / 4, dxAt / 4 + pixels * cPad);
    const work = outPixels * cPad * s.filterHeight * s.filterWidth;
    this.parallel(cPad / 4, this.shareCount(work / 4), PANEL_CHUNKS_PER_THREAD, (g0, g1, list) => {
      list.call(MAX_POOL_GRAD, [
        xAt,
        dyAt,
        dxAt,
        s.batch,
        s.inHeight,
        s.inWidth,
        cPad,
        s.outHeight,
        s.outWidth,
        s.filterHeight,
        s.filterWidth,
        s.strideHeight,
        s.strideWidth,
        s.padTop,
        s.padLeft,
        g0 * 4,
        g1 * 4,
      ]);
    });
    const result = this.f32().subarray(dxAt / 4, dxAt / 4 + pixels * cPad);
    if (cPad === c) dx.set(result);
    else for (let p = 0; p < pixels; p++) dx.set(result.subarray(p * cPad, p * cPad + c), p * c);
  }

  /**
   * out = a · b for one row `a` `[K]` and a matrix `b` `[K, N]` (N a multiple of 4); out `[N]`. BatchNorm's column
   * sums (`ones · x`) are this product.
   */
  rowTimesMatrix(a: Float32Array, b: Float32Array, rows: number, cols: number, out: Float32Array): void {
    // Partial products over blocks of rows, summed in float64: sequential float32 sums over 10⁴–10⁵ rows would lose
    // ~1e-5 relative accuracy.
    const blocks = Math.ceil(rows / ROW_BLOCK);
    const { offsets, end } = regions([rows * 4, rows * cols * 4, blocks * cols * 4]);
    const [aAt, bAt, outAt] = offsets as [number, number, number];
    this.ensure(end);
    const f32 = this.f32();
    f32.set(a, aAt / 4);
    f32.set(b, bAt / 4);
    const count = this.shared !== null && rows * cols >= PARALLEL_MIN_VALUES ? this.threads : 1;
    this.parallel(cols / 4, count, COLUMN_CHUNKS_PER_THREAD, (u0, u1, list) => {
      for (let block = 0; block < blocks; block++) {
        const first = block * ROW_BLOCK;
        const length = Math.min(ROW_BLOCK, rows - first);
        list.call(GEMV, [
          aAt + first * 4,
          bAt + first * cols * 4,
          length,
          cols,
          outAt + block * cols * 4,
          u0 * 4,
          u1 * 4,
        ]);
      }
    });
    const partial = this.f32().subarray(outAt / 4, outAt / 4 + blocks * cols);
    for (let j = 0; j < cols; j++) {
      let sum = 0;
      for (let block = 0; block < blocks; block++) sum += partial[block * cols + j] as number;
      out[j] = sum;
    }
  }

  /**
   * Appends the `rows` kernel calls of rows [i0, i1) × columns [j0, j1): column tiles × depth blocks × all rows.
   * `filter` is packed in panels of CONV_COLUMNS columns, each `depth` (= taps × seg) rows deep.
   */
  private rowPasses(
    list: CallList,
    p: {
      aTable: number;
      taps: number;
      seg: number;
      filter: number;
      depth: number;
      outTable: number;
      i0: number;
      i1: number;
      j0: number;
      j1: number;
    },
  ): void {
    if (p.i1 <= p.i0) return;
    const tapBlock = Math.max(1, Math.floor(DEPTH_BLOCK / p.seg));
    for (let j0 = p.j0; j0 < p.j1; j0 += COLUMN_TILE) {
      const j1 = Math.min(p.j1, j0 + COLUMN_TILE);
      for (let t0 = 0; t0 < p.taps; t0 += tapBlock) {
        const t1 = Math.min(p.taps, t0 + tapBlock);
        list.call(ROWS, [
          p.aTable,
          p.taps,
          t0,
          t1,
          p.seg,
          p.filter,
          PANEL_ROW,
          p.seg * PANEL_ROW,
          p.depth * 4,
          p.outTable,
          p.i0,
          p.i1,
          j0,
          j1,
          t0 > 0 ? 1 : 0,
        ]);
      }
    }
  }

  /**
   * Tables of the forward role: for each output pixel m (padded to CONV_ROWS) and tap t, the
   * address of x[n, oh·s + kh − pad, ow·s + kw − pad, 0] or of the zero region; then room for the output-row
   * table of the forward role (filled by outputRows). Layout: tables, x (+16 bytes of slack), then the role's own regions (`rest`).
   */
  private pixelTables(s: ConvShape): { tables: Tables; x: number; rest: (bytes: number[]) => number[] } {
    const taps = s.filterHeight * s.filterWidth;
    const rows = s.batch * s.outHeight * s.outWidth;
    const paddedRows = roundUp(rows, CONV_ROWS);
    const tableBytes = (paddedRows * taps + paddedRows) * 4;
    const xBytes = s.batch * s.inHeight * s.inWidth * s.inChannels * 4 + 16;
    const { offsets } = regions([tableBytes, xBytes]);
    const [tableAt, xAt] = offsets as [number, number];
    const key = shapeKey('x', s);
    let tables = this.tables.get(key);
    if (tables === undefined) {
      const words = new Int32Array(paddedRows * taps + paddedRows);
      const { outHeight: oh, outWidth: ow, inHeight: h, inWidth: w, inChannels: c } = s;
      let k = 0;
      for (let m = 0; m < paddedRows; m++) {
        const n = Math.floor(m / (oh * ow));
        const y = Math.floor(m / ow) % oh;
        const x = m % ow;
        for (let kh = 0; kh < s.filterHeight; kh++) {
          const row = y * s.strideHeight + kh - s.padTop;
          for (let kw = 0; kw < s.filterWidth; kw++) {
            const col = x * s.strideWidth + kw - s.padLeft;
            const inside = m < rows && row >= 0 && row < h && col >= 0 && col < w;
            words[k++] = inside ? xAt + ((n * h + row) * w + col) * c * 4 : 0;
          }
        }
      }
      tables = { words, offset: tableAt };
      this.remember(key, tables);
    }
    const rest = (bytes: number[]) => {
      const extra = regions([tableBytes, xBytes, ...bytes]);
      this.ensure(extra.end);
      return extra.offsets.slice(2);
    };
    return { tables, x: xAt, rest };
  }

  /** Points output rows m < rows of a forward call at `outAt + m·cols·4` and the padding rows at the scratch row. */
  private outputRows(outTable: number, rows: number, paddedRows: number, outAt: number, cols: number): void {
    const table = new Int32Array(this.memory.buffer, outTable, paddedRows);
    for (let m = 0; m < paddedRows; m++) table[m] = m < rows ? outAt + m * cols * 4 : SCRATCH_OFFSET;
  }

  /** Regions of the input-gradient role: tables (per phase), the packed filter in phase order, dy, dx, the filter. */
  private phaseLayout(s: ConvShape): { tableOffset: number; filterAt: number; data: number[]; end: number } {
    let tableWords = 0;
    for (let a = 0; a < s.strideHeight; a++) {
      for (let b = 0; b < s.strideWidth; b++) {
        const rows =
          s.batch *
          Math.max(0, Math.ceil((s.inHeight - a) / s.strideHeight)) *
          Math.max(0, Math.ceil((s.inWidth - b) / s.strideWidth));
        const taps = phaseTaps(s, a, b).length;
        if (rows > 0 && taps > 0) tableWords += roundUp(rows, CONV_ROWS) * (taps + 1);
      }
    }
    const taps = s.filterHeight * s.filterWidth;
    const { offsets, end } = regions([
      tableWords * 4,
      taps * s.inChannels * s.outChannels * 4,
      s.batch * s.outHeight * s.outWidth * s.outChannels * 4 + 16,
      s.batch * s.inHeight * s.inWidth * s.inChannels * 4,
      taps * s.inChannels * s.outChannels * 4,
    ]);
    const [tableOffset, filterAt, dyAt, dxAt, wAt] = offsets as [number, number, number, number, number];
    return { tableOffset, filterAt, data: [dyAt, dxAt, wAt], end };
  }

  private buildPhaseTables(
    s: ConvShape,
    tableOffset: number,
    dyAt: number,
    dxAt: number,
    filterAt: number,
  ): { phases: Phase[]; tables: Tables } {
    const phases: Phase[] = [];
    const chunks: Int32Array[] = [];
    let offset = tableOffset;
    let filter = filterAt;
    const { inHeight: h, inWidth: w, outHeight: oh, outWidth: ow, inChannels: ci, outChannels: co } = s;
    for (let a = 0; a < s.strideHeight; a++) {
      for (let b = 0; b < s.strideWidth; b++) {
        const ys: number[] = [];
        for (let y = a; y < h; y += s.strideHeight) ys.push(y);
        const xs: number[] = [];
        for (let x = b; x < w; x += s.strideWidth) xs.push(x);
        const taps = phaseTaps(s, a, b);
        const rows = s.batch * ys.length * xs.length;
        if (rows === 0 || taps.length === 0) continue;
        const paddedRows = roundUp(rows, CONV_ROWS);
        const aTable = new Int32Array(paddedRows * taps.length);
        const outTable = new Int32Array(paddedRows);
        let k = 0;
        let m = 0;
        for (let n = 0; n < s.batch; n++) {
          for (const y of ys) {
            for (const x of xs) {
              outTable[m++] = dxAt + ((n * h + y) * w + x) * ci * 4;
              for (const [kh, kw] of taps) {
                const outY = (y + s.padTop - kh) / s.strideHeight;
                const outX = (x + s.padLeft - kw) / s.strideWidth;
                const inside = outY >= 0 && outY < oh && outX >= 0 && outX < ow;
                aTable[k++] = inside ? dyAt + ((n * oh + outY) * ow + outX) * co * 4 : 0;
              }
            }
          }
        }
        for (; m < paddedRows; m++) outTable[m] = SCRATCH_OFFSET;
        phases.push({ rows, taps, aTable: offset, outTable: offset + aTable.length * 4, filter });
        chunks.push(aTable, outTable);
        offset += (aTable.length + outTable.length) * 4;
        filter += taps.length * ci * co * 4;
      }
    }
    const words = new Int32Array((offset - tableOffset) / 4);
    let at = 0;
    for (const chunk of chunks) {
      words.set(chunk, at);
      at += chunk.length;
    }
    return { phases, tables: { words, offset: tableOffset } };
  }

  private remember(key: string, tables: Tables): void {
    if (this.tables.size >= MAX_CACHED_TABLES) {
      this.tables.clear();
      this.phases.clear();
    }
    this.tables.set(key, tables);
  }

  private writeTables(tables: Tables): void {
    new Int32Array(this.memory.buffer, tables.offset, tables.words.length).set(tables.words);
  }

  private shareCount(work: number): number {
    return this.shared !== null && work >= PARALLEL_MIN_WORK ? this.threads : 1;
  }

  /**
   * Splits `units` (channel panels, taps, rows…) into chunks, `chunksPerThread` per thread when `threads` > 1, builds
   * each chunk's calls with `make(u0, u1, list)` and runs them: threads claim chunks dynamically, so a thread slowed
   * by another process takes fewer.
   */
  private parallel(
    units: number,
    threads: number,
    chunksPerThread: number,
    make: (u0: number, u1: number, list: CallList) => void,
  ): void {
    const chunks = split(units, threads === 1 ? 1 : threads * chunksPerThread).map(([u0, u1]) => {
      const list = new CallList();
      make(u0, u1, list);
      return list;
    });
    this.run(chunks, threads);
  }

  private run(chunks: CallList[], threads = chunks.length): void {
    const runLocal = (chunk: CallList) => chunk.runWith(this.functions);
    if (chunks.length <= 1 || threads <= 1 || this.shared === null) chunks.forEach(runLocal);
    else runOnThreads(this.shared, chunks, runLocal, threads);
  }

  private f32(): Float32Array {
    return new Float32Array(this.memory.buffer);
  }

  /** Grows the memory to at least `bytes`. */
  private ensure(bytes: number): void {
    const missing = Math.ceil((bytes - this.memory.buffer.byteLength) / PAGE_BYTES);
    if (missing > 0) {
      if (this.memory.buffer.byteLength / PAGE_BYTES + missing > MAX_PAGES) {
        throw new RangeError(`@vkd/backends: a convolution needs ${bytes} bytes of kernel memory, more than 4 GiB`);
      }
      this.memory.grow(missing);
    }
  }
}

/** Filter taps (kh, kw) that reach the dx pixels of phase (a, b): kh ≡ a + padTop (mod strideHeight), likewise kw. */
function phaseTaps(s: ConvShape, a: number, b: number): Array<readonly [number, number]> {
  const taps: Array<readonly [number, number]> = [];
  for (let kh = 0; kh < s.filterHeight; kh++) {
    if ((a + s.padTop - kh) % s.strideHeight !== 0) continue;
    for (let kw = 0; kw < s.filterWidth; kw++) {
      if ((b + s.padLeft - kw) % s.strideWidth !== 0) continue;
      taps.push([kh, kw]);
    }
  }
  return taps;
}
