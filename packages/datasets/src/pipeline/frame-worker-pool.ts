import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { reviveFrameError, type SerializedFrameError } from './frame-error';
import type { FrameJob, FrameSettings } from './frame-job';
import type { FrameRequest } from './frame-worker';

/** Frames each worker holds at once: one decoding on the libuv pool while the worker augments the other. */
const FRAMES_PER_WORKER = 2;

/** Seconds a pool with no loader attached waits for the next loader (the next epoch) before it terminates. */
const IDLE_SECONDS = 2;

/** A loader's handle on the shared pool of frame worker threads (decode + resize + augment + normalise). */
export interface FrameWorkerPool {
  /** Decodes `job` into the Float32Array over `buffer` at `job.offset`; rejects with the typed error naming the file. */
  run(job: FrameJob, settings: FrameSettings, buffer: SharedArrayBuffer): Promise<void>;
  /** Detaches the loader: its frames not yet started reject (and are dropped); the pool's idle timer starts. */
  release(): void;
}

interface Pending {
  readonly client: number;
  readonly request: FrameRequest;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

interface Slot {
  readonly worker: Worker;
  readonly inFlight: Map<number, Pending>;
}

/**
 * How to start a frame worker: `frame-worker.js` next to this module in a build (tsup emits it beside `node.js`);
 * from the TypeScript sources (tests, `pnpm vkd`), a bootstrap that registers tsx in the worker, then imports
 * `frame-worker.ts` with the `@vkd/source` condition (Node 20 does not apply the parent's loader hooks to a worker).
 */
function workerEntry(): { entry: URL | string; eval: boolean; execArgv: string[] } {
  const built = new URL('./frame-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(built))) return { entry: built, eval: false, execArgv: process.execArgv };
  const source = new URL('./frame-worker.ts', import.meta.url).href;
  const tsxApi = new URL(
    'dist/esm/api/index.mjs',
    pathToFileURL(createRequire(import.meta.url).resolve('tsx/package.json')),
  ).href;
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(source)}); });`;
  const execArgv = process.execArgv.some((flag) => flag.includes('@vkd/source'))
    ? process.execArgv
    : [...process.execArgv, '--conditions=@vkd/source'];
  return { entry: bootstrap, eval: true, execArgv };
}

interface SharedPool {
  readonly size: number;
  run(client: number, job: FrameJob, settings: FrameSettings, buffer: SharedArrayBuffer): Promise<void>;
  drop(client: number): void;
  attach(): void;
  detach(): void;
  terminate(): Promise<void>;
  readonly failed: boolean;
}

const pools = new Map<number, SharedPool>();
let nextClient = 0;

/**
 * Attaches a loader to the process-wide pool of `count` frame workers, starting it if needed (threads start in
 * ~0.1–0.5 s, so epochs and evaluation loaders reuse them). Frames are handed out in FIFO order, at most
 * {@link FRAMES_PER_WORKER} per worker. Idle workers are unref'd, so a pool never keeps the process alive (a loader
 * abandoned mid-epoch does not hang it); {@link IDLE_SECONDS} after the last loader detaches, the pool terminates.
 */
export function acquireFrameWorkerPool(count: number): FrameWorkerPool {
  let pool = pools.get(count);
  if (!pool || pool.failed) {
    void pool?.terminate();
    pool = startPool(count);
    pools.set(count, pool);
  }
  const shared = pool;
  const client = nextClient++;
  let released = false;
  shared.attach();
  return {
    run: (job, settings, buffer) =>
      released ? Promise.reject(new Error('This loader has been closed.')) : shared.run(client, job, settings, buffer),
    release() {
      if (released) return;
      released = true;
      shared.drop(client);
      shared.detach();
    },
  };
}

/** Frame worker threads alive in this process (tests: pools terminate after their loaders close). */
export function liveFrameWorkers(): number {
  let total = 0;
  for (const pool of pools.values()) total += pool.failed ? 0 : pool.size;
  return total;
}

/** Terminates every frame worker pool now (e.g. before a process exits on purpose, or between tests). */
export async function closeFrameWorkers(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  await Promise.all(all.map((pool) => pool.terminate()));
}

/** Starts `count` frame workers (see {@link acquireFrameWorkerPool}). */
function startPool(count: number): SharedPool {
  const { entry, eval: evaluate, execArgv } = workerEntry();
  const queue: Pending[] = [];
  let nextId = 0;
  let closed = false;
  let failure: Error | undefined;
  let attached = 0;
  let idleTimer: ReturnType<typeof setTimeout> | undefined;

  const slots: Slot[] = Array.from({ length: count }, () => {
    const worker = new Worker(entry, { eval: evaluate, execArgv });
    const slot: Slot = { worker, inFlight: new Map() };
    worker.unref();
    worker.on('message', (message: { id: number; error?: SerializedFrameError }) => {
      const pending = slot.inFlight.get(message.id);
      if (!pending) return;
      slot.inFlight.delete(message.id);
      if (message.error) pending.reject(reviveFrameError(message.error));
      else pending.resolve();
      dispatch();
    });
    const fail = (error: Error) => {
      failure ??= error;
      for (const pending of [...slot.inFlight.values(), ...queue.splice(0)]) pending.reject(error);
      slot.inFlight.clear();
    };
    worker.on('error', (error) =>
      fail(new Error(`A frame worker of createTrackletLoader failed: ${error.message}`, { cause: error })),
    );
    worker.on('exit', (code) => {
      if (!closed) fail(new Error(`A frame worker of createTrackletLoader exited unexpectedly (code ${code}).`));
    });
    return slot;
  });

  function dispatch(): void {
    while (queue.length > 0) {
      let best: Slot | undefined;
      for (const slot of slots) if (!best || slot.inFlight.size < best.inFlight.size) best = slot;
      if (!best || best.inFlight.size >= FRAMES_PER_WORKER) break;
      const pending = queue.shift() as Pending;
      best.inFlight.set(pending.request.id, pending);
      best.worker.postMessage(pending.request);
    }
    for (const slot of slots) {
      if (slot.inFlight.size > 0) slot.worker.ref();
      else slot.worker.unref();
    }
  }

  const terminate = async () => {
    if (closed) return;
    closed = true;
    if (idleTimer) clearTimeout(idleTimer);
    if (pools.get(count) === self) pools.delete(count);
    const error = new Error('The frame workers were terminated.');
    for (const pending of queue.splice(0)) pending.reject(error);
    await Promise.all(slots.map((slot) => slot.worker.terminate()));
    for (const slot of slots) for (const pending of slot.inFlight.values()) pending.reject(error);
  };

  const self: SharedPool = {
    size: count,
    get failed() {
      return failure !== undefined || closed;
    },
    run(client, job, settings, buffer) {
      if (failure) return Promise.reject(failure);
      if (closed) return Promise.reject(new Error('The frame workers were terminated.'));
      return new Promise<void>((resolve, reject) => {
        queue.push({ client, request: { id: nextId++, job, settings, buffer }, resolve, reject });
        dispatch();
      });
    },
    drop(client) {
      const error = new Error('This loader has been closed.');
      for (let index = queue.length - 1; index >= 0; index--) {
        const pending = queue[index] as Pending;
        if (pending.client === client) {
          queue.splice(index, 1);
          pending.reject(error);
        }
      }
    },
    attach() {
      attached++;
      if (idleTimer) clearTimeout(idleTimer);
      idleTimer = undefined;
    },
    detach() {
      attached--;
      if (attached > 0 || closed) return;
      idleTimer = setTimeout(() => void terminate(), IDLE_SECONDS * 1000);
      idleTimer.unref();
    },
    terminate,
  };
  return self;
}
