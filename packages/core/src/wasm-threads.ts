/**
 * Runs WebAssembly kernel calls on worker threads that share one WebAssembly memory, driven synchronously with
 * Atomics: the calling thread runs its own share, then waits for the others. The public APIs built on it stay
 * synchronous and use every core. Workers are created on first use, reused, and unref'ed (they never keep a
 * process alive). Used by @vkd/metrics (distance kernels) and @vkd/backends (convolution kernels).
 */

/** Control words of the Int32Array shared with each worker. */
const REQUEST = 0;
const DONE = 1;
const FAILED = 2;
const CONTROL_WORDS = 4;

/**
 * Layout of the job buffer shared by every thread of a run: a claim counter, the number of chunks, chunk start
 * offsets (chunks + 1 of them, into the words that follow), then the encoded calls.
 */
const CLAIM = 0;
const CHUNKS = 1;
const OFFSETS = 2;

// Runs inside each worker (CommonJS, evaluated from this string so that bundled builds need no extra file).
// A message on the port (read synchronously on every request) binds a kernel or replaces the job buffer. On each
// request the worker claims chunks (Atomics.add on the shared counter) until none is left.
const WORKER_SOURCE = `
const { workerData, receiveMessageOnPort } = require('node:worker_threads');
const { control, port } = workerData;
let functions = [];
let job = new Int32Array(${OFFSETS + 1});
let seen = 0;
for (;;) {
  Atomics.wait(control, ${REQUEST}, seen);
  seen = Atomics.load(control, ${REQUEST});
  try {
    for (let message = receiveMessageOnPort(port); message; message = receiveMessageOnPort(port)) {
      const { module, memory, names, buffer } = message.message;
      if (module) {
        const exports = new WebAssembly.Instance(module, { env: { memory } }).exports;
        functions = names.map((name) => exports[name]);
      }
      if (buffer) job = buffer;
    }
    const chunks = job[${CHUNKS}];
    for (let chunk = Atomics.add(job, ${CLAIM}, 1); chunk < chunks; chunk = Atomics.add(job, ${CLAIM}, 1)) {
      const end = job[${OFFSETS} + chunk + 1];
      for (let p = job[${OFFSETS} + chunk]; p < end; ) {
        const count = job[p + 1];
        functions[job[p]](...job.subarray(p + 2, p + 2 + count));
        p += 2 + count;
      }
    }
    control[${FAILED}] = 0;
  } catch (error) {
    control[${FAILED}] = 1;
  }
  Atomics.store(control, ${DONE}, seen);
  Atomics.notify(control, ${DONE});
}
`;

interface WorkerThreadsModule {
  Worker: new (source: string, options: object) => { unref(): void };
  MessageChannel: new () => { port1: { postMessage(message: unknown): void; unref(): void }; port2: unknown };
}

/**
 * A kernel whose module imports a shared memory as `env.memory`: the same module is instantiated in each worker,
 * and `functions` names the exports that call lists refer to by index.
 */
export interface SharedWasmKernel {
  /** A compiled `WebAssembly.Module` importing `env.memory`. */
  readonly module: object;
  /** The shared `WebAssembly.Memory` it runs on. */
  readonly memory: object;
  /** Export names; `CallList.call(fn, …)` refers to them by index. */
  readonly functions: readonly string[];
}

/**
 * One thread's share of work: a sequence of kernel calls with integer arguments (byte offsets, counts). Arguments
 * are stored as int32, so offsets ≥ 2³¹ wrap to negative numbers, which WebAssembly reads back as the same i32.
 */
export class CallList {
  private data = new Int32Array(256);
  /** Number of int32 words used. */
  length = 0;

  /** Appends a call of function `fn` (an index into `SharedWasmKernel.functions`). */
  call(fn: number, args: readonly number[]): void {
    const needed = this.length + 2 + args.length;
    if (needed > this.data.length) {
      const grown = new Int32Array(Math.max(needed, this.data.length * 2));
      grown.set(this.data.subarray(0, this.length));
      this.data = grown;
    }
    this.data[this.length] = fn;
    this.data[this.length + 1] = args.length;
    this.data.set(args, this.length + 2);
    this.length = needed;
  }

  /** Runs every call on this thread with `functions` (the exports named by the kernel, in the same order). */
  runWith(functions: ReadonlyArray<(...args: number[]) => unknown>): void {
    const data = this.data;
    for (let p = 0; p < this.length; ) {
      const count = data[p + 1] as number;
      (functions[data[p] as number] as (...args: number[]) => unknown)(...data.subarray(p + 2, p + 2 + count));
      p += 2 + count;
    }
  }

  /** The encoded calls (`[fn, argCount, ...args]` repeated). */
  words(): Int32Array {
    return this.data.subarray(0, this.length);
  }
}

interface ThreadWorker {
  readonly control: Int32Array;
  readonly port: { postMessage(message: unknown): void };
  boundKernel: SharedWasmKernel | undefined;
  boundJob: Int32Array | undefined;
}

/** The job buffer of the current run (grown as needed; every worker holds a reference). */
let jobBuffer: Int32Array = new Int32Array(0);

const pool: ThreadWorker[] = [];

function workerThreads(): WorkerThreadsModule | undefined {
  const processObject = (globalThis as { process?: { getBuiltinModule?: (name: string) => unknown } }).process;
  try {
    return processObject?.getBuiltinModule?.('node:worker_threads') as WorkerThreadsModule | undefined;
  } catch {
    return undefined;
  }
}

/** True when worker threads, SharedArrayBuffer and Atomics are all available (Node ≥ 20.16). */
export function canUseWasmThreads(): boolean {
  return typeof SharedArrayBuffer === 'function' && typeof Atomics === 'object' && workerThreads() !== undefined;
}

/** Number of hardware threads (`os.availableParallelism()`), or 1 when unknown. */
export function hardwareThreads(): number {
  const os = (globalThis as { process?: { getBuiltinModule?: (name: string) => unknown } }).process?.getBuiltinModule?.(
    'node:os',
  ) as { availableParallelism?: () => number } | undefined;
  return Math.max(1, os?.availableParallelism?.() ?? 1);
}

function getWorkers(count: number): ThreadWorker[] {
  const threads = workerThreads();
  if (threads === undefined) return [];
  while (pool.length < count) {
    const control = new Int32Array(new SharedArrayBuffer(CONTROL_WORDS * 4));
    const channel = new threads.MessageChannel();
    const worker = new threads.Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { control, port: channel.port2 },
      transferList: [channel.port2],
    });
    worker.unref();
    channel.port1.unref();
    pool.push({ control, port: channel.port1, boundKernel: undefined, boundJob: undefined });
  }
  return pool.slice(0, count);
}

function start(worker: ThreadWorker): void {
  Atomics.add(worker.control, REQUEST, 1);
  Atomics.notify(worker.control, REQUEST);
}

function waitFor(worker: ThreadWorker): void {
  const request = Atomics.load(worker.control, REQUEST);
  for (;;) {
    const done = Atomics.load(worker.control, DONE);
    if (done === request) break;
    Atomics.wait(worker.control, DONE, done, 1000);
  }
  if (worker.control[FAILED] === 1) throw new Error('@vkd/core: a WebAssembly worker thread failed');
}

/**
 * Runs every chunk of calls, spread dynamically over the calling thread and `threads − 1` worker threads bound to
 * `kernel`: each thread claims the next unclaimed chunk until none is left, so a slow thread (another process on its
 * core) takes fewer chunks instead of holding everyone up. The calling thread runs its chunks with `runLocal`.
 * Returns when all chunks have run (also when `runLocal` throws). Without worker threads, every chunk runs on the
 * calling thread, in order.
 * @param threads threads to use, the calling thread included (default: one per chunk).
 * @throws Error when a worker's kernel call traps (e.g. out-of-bounds memory access).
 */
export function runOnThreads(
  kernel: SharedWasmKernel,
  chunks: readonly CallList[],
  runLocal: (chunk: CallList) => void,
  threads = chunks.length,
): void {
  if (chunks.length === 0) return;
  const workers = getWorkers(Math.max(0, Math.min(threads, chunks.length) - 1));
  if (workers.length === 0) {
    chunks.forEach(runLocal);
    return;
  }
  const words = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
  const needed = OFFSETS + chunks.length + 1 + words;
  if (jobBuffer.length < needed)
    jobBuffer = new Int32Array(new SharedArrayBuffer(Math.max(needed, 2 * jobBuffer.length, 4096) * 4));
  const job = jobBuffer;
  let at = OFFSETS + chunks.length + 1;
  chunks.forEach((chunk, index) => {
    job[OFFSETS + index] = at;
    job.set(chunk.words(), at);
    at += chunk.length;
  });
  job[OFFSETS + chunks.length] = at;
  job[CHUNKS] = chunks.length;
  Atomics.store(job, CLAIM, 0);
  for (const worker of workers) {
    const message: { module?: object; memory?: object; names?: readonly string[]; buffer?: Int32Array } = {};
    if (worker.boundKernel !== kernel) {
      Object.assign(message, { module: kernel.module, memory: kernel.memory, names: kernel.functions });
      worker.boundKernel = kernel;
    }
    if (worker.boundJob !== job) {
      message.buffer = job;
      worker.boundJob = job;
    }
    if (message.module !== undefined || message.buffer !== undefined) worker.port.postMessage(message);
    start(worker);
  }
  try {
    for (let chunk = Atomics.add(job, CLAIM, 1); chunk < chunks.length; chunk = Atomics.add(job, CLAIM, 1))
      runLocal(chunks[chunk] as CallList);
  } finally {
    // Claim whatever is left, so that workers stop, then wait for them.
    Atomics.store(job, CLAIM, chunks.length);
    workers.forEach(waitFor);
  }
}
