import { canUseWasmThreads, type SharedWasmKernel } from './wasm-threads';

/** A WebAssembly memory as the kernels use it (declared here: @types/node 20 does not type the global). */
export interface WasmMemory {
  readonly buffer: ArrayBufferLike;
  grow(pages: number): number;
}

interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> };
  Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
}

/** One WebAssembly kernel module instantiated on the calling thread, ready for `runOnThreads` when shared. */
export interface WasmKernelInstance {
  readonly exports: Record<string, unknown>;
  readonly memory: WasmMemory;
  /** What `runOnThreads` needs; null when the kernel runs on the calling thread only. */
  readonly shared: SharedWasmKernel | null;
  /** Threads the kernel may use (1 without a shared module). */
  readonly threads: number;
}

/** Options of {@link instantiateWasmKernel}. */
export interface WasmKernelOptions {
  /** Base64 module with its own memory (exported as `memory`). */
  readonly module: string;
  /** Base64 module importing a shared `env.memory` (maximum 65536 pages), for worker threads. */
  readonly sharedModule: string;
  /** Threads wanted (the calling thread included). */
  readonly threads: number;
  /** Exports that `CallList` calls refer to by index. */
  readonly functions: readonly string[];
  /** Pages (64 KiB) the memory starts with (default 1). */
  readonly initialPages?: number;
}

const MAX_PAGES = 65536;
const compiled = new Map<string, object | null>();

function webAssembly(): WasmApi | undefined {
  return (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
}

/** Compiles a base64 module once per process; null when this runtime cannot validate it (no SIMD or threads). */
function compile(base64: string): object | null {
  if (!compiled.has(base64)) {
    const wasm = webAssembly();
    const bytes = Buffer.from(base64, 'base64');
    compiled.set(base64, wasm?.validate(bytes) ? new wasm.Module(bytes) : null);
  }
  return compiled.get(base64) as object | null;
}

/**
 * Instantiates a generated kernel: the shared-memory variant when more than one thread is wanted and worker threads
 * are available, else the single-threaded one. Returns null when this runtime has no WebAssembly SIMD (callers then
 * use their plain fallbacks).
 */
export function instantiateWasmKernel(options: WasmKernelOptions): WasmKernelInstance | null {
  const wasm = webAssembly();
  if (wasm === undefined) return null;
  const initial = options.initialPages ?? 1;
  const sharedModule = options.threads > 1 && canUseWasmThreads() ? compile(options.sharedModule) : null;
  if (sharedModule !== null) {
    const memory = new wasm.Memory({ initial, maximum: MAX_PAGES, shared: true });
    const { exports } = new wasm.Instance(sharedModule, { env: { memory } });
    return {
      exports,
      memory,
      shared: { module: sharedModule, memory, functions: options.functions },
      threads: options.threads,
    };
  }
  const module = compile(options.module);
  if (module === null) return null;
  const { exports } = new wasm.Instance(module, {});
  const memory = exports.memory as WasmMemory;
  if (initial > 1) memory.grow(initial - 1);
  return { exports, memory, shared: null, threads: 1 };
}
