/**
 * A small pool of worker threads that run the SIMD dot-product kernel on a shared WebAssembly memory, driven
 * synchronously with Atomics (the calling thread works on its own share and then waits), so that the public API
 * stays synchronous and uses every core. Workers are unref'ed: they never keep a process alive.
 */

/** Control words of the Int32Array shared with each worker. */
const REQUEST = 0;
const COMMAND = 1;
const PARAMS = 2;
const DONE = 16;
const FAILED = 17;
const BIND = 1;
const COMPUTE = 2;

// Runs inside each worker (CommonJS, evaluated from this string so that bundled builds need no extra file).
const WORKER_SOURCE = `
const { workerData, receiveMessageOnPort } = require('node:worker_threads');
const { control, port } = workerData;
let dots = null;
let seen = 0;
for (;;) {
  Atomics.wait(control, ${REQUEST}, seen);
  seen = Atomics.load(control, ${REQUEST});
  try {
    if (control[${COMMAND}] === ${BIND}) {
      const { module, memory } = receiveMessageOnPort(port).message;
      dots = new WebAssembly.Instance(module, { env: { memory } }).exports.dots;
    } else {
      const p = control.subarray(${PARAMS}, ${PARAMS} + 9);
      const [a, b, out, rows, cols, dim, outStride, depthBlock, tile] = p;
      for (let k0 = 0; k0 < dim; k0 += depthBlock) {
        const k1 = Math.min(dim, k0 + depthBlock);
        for (let j0 = 0; j0 < cols; j0 += tile) {
          dots(a, b + j0 * dim * 4, out + j0 * 4, rows, Math.min(tile, cols - j0), dim, k0, k1, outStride, k0 > 0 ? 1 : 0);
        }
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

interface DotWorker {
  readonly control: Int32Array;
  readonly port: { postMessage(message: unknown): void };
  boundMemory: unknown;
}

/** One share of a kernel run: rows of `a` from `aPointer`, written from `outPointer` (byte offsets). */
export interface KernelShare {
  readonly aPointer: number;
  readonly outPointer: number;
  readonly rows: number;
}

/** Kernel arguments common to all shares. */
export interface KernelJob {
  readonly bPointer: number;
  readonly cols: number;
  readonly dim: number;
  readonly outStride: number;
  readonly depthBlock: number;
  readonly tile: number;
}

const pool: DotWorker[] = [];

function workerThreads(): WorkerThreadsModule | undefined {
  const processObject = (globalThis as { process?: { getBuiltinModule?: (name: string) => unknown } }).process;
  try {
    return processObject?.getBuiltinModule?.('node:worker_threads') as WorkerThreadsModule | undefined;
  } catch {
    return undefined;
  }
}

/** True when worker threads, SharedArrayBuffer and Atomics are all available. */
export function canUseWorkers(): boolean {
  return typeof SharedArrayBuffer === 'function' && typeof Atomics === 'object' && workerThreads() !== undefined;
}

/** Number of hardware threads, or 1 when unknown. */
export function hardwareThreads(): number {
  const os = (globalThis as { process?: { getBuiltinModule?: (name: string) => unknown } }).process?.getBuiltinModule?.('node:os') as
    | { availableParallelism?: () => number }
    | undefined;
  return Math.max(1, os?.availableParallelism?.() ?? 1);
}

function getWorkers(count: number): DotWorker[] {
  const threads = workerThreads();
  if (threads === undefined) return [];
  while (pool.length < count) {
    const control = new Int32Array(new SharedArrayBuffer(32 * 4));
    const channel = new threads.MessageChannel();
    const worker = new threads.Worker(WORKER_SOURCE, { eval: true, workerData: { control, port: channel.port2 }, transferList: [channel.port2] });
    worker.unref();
    channel.port1.unref();
    pool.push({ control, port: channel.port1, boundMemory: undefined });
  }
  return pool.slice(0, count);
}

function send(worker: DotWorker, command: number, params: readonly number[] = []): void {
  worker.control.set(params, PARAMS);
  worker.control[COMMAND] = command;
  Atomics.add(worker.control, REQUEST, 1);
  Atomics.notify(worker.control, REQUEST);
}

function waitFor(worker: DotWorker): void {
  const request = Atomics.load(worker.control, REQUEST);
  for (;;) {
    const done = Atomics.load(worker.control, DONE);
    if (done === request) break;
    Atomics.wait(worker.control, DONE, done, 1000);
  }
  if (worker.control[FAILED] === 1) throw new Error('@vkd/metrics: a distance worker thread failed');
}

/**
 * Runs `shares[0]` on the calling thread with `runLocal` and the other shares on worker threads bound to
 * `memory` (a shared WebAssembly memory instantiated with `module`), then waits for all of them.
 */
export function runShared(
  module: object,
  memory: unknown,
  job: KernelJob,
  shares: readonly KernelShare[],
  runLocal: (share: KernelShare) => void,
): void {
  const workers = getWorkers(shares.length - 1);
  if (workers.length < shares.length - 1) {
    shares.forEach(runLocal);
    return;
  }
  workers.forEach((worker) => {
    if (worker.boundMemory === memory) return;
    worker.port.postMessage({ module, memory });
    send(worker, BIND);
    waitFor(worker);
    worker.boundMemory = memory;
  });
  workers.forEach((worker, i) => {
    const share = shares[i + 1] as KernelShare;
    send(worker, COMPUTE, [share.aPointer, job.bPointer, share.outPointer, share.rows, job.cols, job.dim, job.outStride, job.depthBlock, job.tile]);
  });
  try {
    runLocal(shares[0] as KernelShare);
  } finally {
    workers.forEach(waitFor);
  }
}
