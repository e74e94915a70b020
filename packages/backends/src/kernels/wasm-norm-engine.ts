import type { TensorInfo } from '@tensorflow/tfjs-core';
import { NORM_KERNEL_BASE64 } from './wasm-norm-kernel';

/** Rows per partial sum of a column reduction (keeps float32 rounding errors of long sums small). */
const ROW_BLOCK = 256;

type Call = (...args: number[]) => void;

/** The parts of the tfjs-wasm backend (and its Emscripten module) the element-wise kernels use. */
interface WasmBackendInternals {
  wasm: {
    asm: { memory: object };
    HEAPF32: Float32Array;
    _malloc(bytes: number): number;
    _free(pointer: number): void;
  };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: string): TensorInfo;
}

interface WebAssemblyApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> };
}

let compiled: object | null | undefined;
const instances = new WeakMap<object, Record<string, Call>>();

/** Whether this runtime runs the kernels (WebAssembly SIMD). */
export function wasmNormKernelsSupported(): boolean {
  return kernelModule() !== null;
}

function kernelModule(): object | null {
  if (compiled === undefined) {
    const wasm = (globalThis as { WebAssembly?: WebAssemblyApi }).WebAssembly;
    const bytes = Buffer.from(NORM_KERNEL_BASE64, 'base64');
    compiled = wasm?.validate(bytes) ? new wasm.Module(bytes) : null;
  }
  return compiled;
}

/**
 * The element-wise SIMD kernels of tools/wasm/norm-wat.mjs, instantiated on the tfjs-wasm backend's own memory: they
 * read and write tensors in place (byte offsets on the backend's heap), with no copies. One thread: the backend's heap
 * is not a shared memory, so worker threads cannot reach it without copying every tensor in and out.
 */
export class WasmNormEngine {
  private readonly internals: WasmBackendInternals;
  private readonly functions: Record<string, Call>;
  private readonly scratch: number[] = [];

  private constructor(internals: WasmBackendInternals, functions: Record<string, Call>) {
    this.internals = internals;
    this.functions = functions;
  }

  /** The engine of a tfjs-wasm backend instance, or null without WebAssembly SIMD (callers use their fallback). */
  static of(backend: unknown): WasmNormEngine | null {
    const internals = backend as WasmBackendInternals;
    const memory = internals.wasm?.asm?.memory;
    const module = kernelModule();
    if (memory === undefined || module === null) return null;
    let functions = instances.get(memory);
    if (functions === undefined) {
      const wasm = (globalThis as { WebAssembly?: WebAssemblyApi }).WebAssembly as WebAssemblyApi;
      functions = new wasm.Instance(module, { env: { memory } }).exports as Record<string, Call>;
      instances.set(memory, functions);
    }
    return new WasmNormEngine(internals, functions);
  }

  /** Byte offset of a tensor's data on the heap. */
  pointer(info: TensorInfo): number {
    const data = this.internals.dataIdMap.get(info.dataId);
    if (data === undefined) throw new Error('@vkd/backends: tensor data not found on the wasm backend');
    return data.memoryOffset;
  }

  /** A new float32 output tensor on the heap (uninitialised). */
  output(shape: number[]): TensorInfo {
    return this.internals.makeOutput(shape, 'float32');
  }

  /** Byte offset of `floats` zeroed floats of scratch memory, freed by {@link release}. */
  allocate(floats: number): number {
    const pointer = this.internals.wasm._malloc(Math.max(1, floats) * 4);
    this.scratch.push(pointer);
    this.heap().fill(0, pointer / 4, pointer / 4 + floats);
    return pointer;
  }

  /** Frees every scratch allocation. */
  release(): void {
    for (const pointer of this.scratch.splice(0)) this.internals.wasm._free(pointer);
  }

  /** A view of the heap (valid until the next allocation). */
  heap(): Float32Array {
    return this.internals.wasm.HEAPF32;
  }

  /** `floats` values of the heap at byte offset `pointer` (valid until the next allocation). */
  view(pointer: number, floats: number): Float32Array {
    return this.heap().subarray(pointer / 4, pointer / 4 + floats);
  }

  /** Runs one kernel function over all rows at once. */
  call(name: string, ...args: number[]): void {
    (this.functions[name] as Call)(...args);
  }

  /**
   * Column sums by a reduction kernel `name(...rowTensors, ...perChannel, rows, cols, ...blocks, ...scalars)` run per
   * block of {@link ROW_BLOCK} rows (each tensor of `rowTensors` advanced to the block's first row, one [cols] partial
   * per output and block), then the partials summed in float64 into `outputs` ([cols] float32 each): the order of
   * `WasmConvEngine.rowTimesMatrix`, which computes the composed ops' column sums, so the same values.
   */
  columnSums(
    name: string,
    rowTensors: readonly number[],
    perChannel: readonly number[],
    rows: number,
    cols: number,
    outputs: readonly number[],
    scalars: readonly number[] = [],
  ): void {
    const call = this.functions[name] as Call;
    const blocks = Math.ceil(rows / ROW_BLOCK);
    const partials = outputs.map(() => this.allocate(blocks * cols));
    for (let block = 0; block < blocks; block++) {
      const first = block * ROW_BLOCK;
      const length = Math.min(ROW_BLOCK, rows - first);
      const offset = first * cols * 4;
      const blockAt = block * cols * 4;
      call(
        ...rowTensors.map((p) => p + offset),
        ...perChannel,
        length,
        cols,
        ...partials.map((p) => p + blockAt),
        ...scalars,
      );
    }
    const heap = this.heap();
    outputs.forEach((out, k) => {
      const partial = (partials[k] as number) / 4;
      for (let j = 0; j < cols; j++) {
        let sum = 0;
        for (let block = 0; block < blocks; block++) sum += heap[partial + block * cols + j] as number;
        heap[out / 4 + j] = sum;
      }
    });
  }
}
