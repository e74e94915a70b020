import { describe, expect, it } from 'vitest';
import { CallList, canUseWasmThreads, hardwareThreads, runOnThreads, type SharedWasmKernel } from '../src/wasm';

// (module (import "env" "memory" (memory 1 16 shared))
//   (func (export "fill") (param $at i32) (param $count i32) (param $value i32) …stores $value in $count i32s from $at…)
//   (func (export "trap") unreachable))
const FILL_MODULE =
  'AGFzbQEAAAABCgJgA39/fwBgAAACEAEDZW52Bm1lbW9yeQIDARADAwIAAQcPAgRmaWxsAAAEdHJhcAABCjECKwEBfyAAIAFBAnRqIQMCQANAIAAgA08NASAAIAI2AgAgAEEEaiEADAALCwsDAAAL';

interface Wasm {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, (...args: number[]) => void> };
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => { buffer: ArrayBufferLike };
}
const wasm = (globalThis as unknown as { WebAssembly: Wasm }).WebAssembly;

function kernel(): { kernel: SharedWasmKernel; local: Array<(...args: number[]) => void>; view: () => Int32Array } {
  const module = new wasm.Module(Buffer.from(FILL_MODULE, 'base64'));
  const memory = new wasm.Memory({ initial: 1, maximum: 16, shared: true });
  const { exports } = new wasm.Instance(module, { env: { memory } });
  return {
    kernel: { module, memory, functions: ['fill', 'trap'] },
    local: [exports.fill!, exports.trap!],
    view: () => new Int32Array(memory.buffer),
  };
}

describe('runOnThreads (WebAssembly calls on worker threads sharing one memory)', () => {
  it('runs every chunk exactly once, spread over the calling thread and the workers, and waits for all of them', () => {
    expect(canUseWasmThreads()).toBe(true);
    expect(hardwareThreads()).toBeGreaterThanOrEqual(1);
    const { kernel: fill, local, view } = kernel();
    // Four shares of 1,000 int32 each; share i writes i + 1. Many calls per share, and a second round with a
    // longer call list (the workers' queues grow) on the same workers.
    for (const callsPerShare of [1, 300]) {
      const shares = Array.from({ length: 4 }, (_, share) => {
        const list = new CallList();
        const per = Math.ceil(1000 / callsPerShare);
        for (let start = 0; start < 1000; start += per)
          list.call(0, [(share * 1000 + start) * 4, Math.min(per, 1000 - start), share + 1 + callsPerShare]);
        return list;
      });
      const ranLocally: CallList[] = [];
      runOnThreads(
        fill,
        shares,
        (share) => {
          ranLocally.push(share);
          share.runWith(local);
        },
        2,
      );
      // Chunks are claimed dynamically: the calling thread runs some (maybe all), never one twice.
      expect(new Set(ranLocally).size).toBe(ranLocally.length);
      const values = view().subarray(0, 4000);
      for (let share = 0; share < 4; share++) {
        expect(values.subarray(share * 1000, share * 1000 + 1000).every((v) => v === share + 1 + callsPerShare)).toBe(
          true,
        );
      }
    }
  });

  it('reports a trap (on a worker or on the calling thread) as an error, and stays usable', () => {
    const { kernel: fill, local, view } = kernel();
    const failing = new CallList();
    failing.call(1, []);
    const fine = new CallList();
    fine.call(0, [0, 10, 7]);
    // Whichever thread claims the failing chunk, the run throws (a worker's trap is reported after it finished).
    expect(() => runOnThreads(fill, [fine, failing], (share) => share.runWith(local))).toThrow(
      /worker thread failed|unreachable/,
    );
    // A calling thread that is slow to claim (50 ms) leaves the failing chunk to a worker: the error names the worker.
    const slow = (share: CallList) => {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
      share.runWith(local);
    };
    expect(() => runOnThreads(fill, [new CallList(), failing], slow)).toThrow(/worker thread failed|unreachable/);
    view().fill(0, 0, 10);
    // The pool stays usable after a failure.
    const again = new CallList();
    again.call(0, [64, 4, 9]);
    runOnThreads(fill, [new CallList(), again], (share) => share.runWith(local));
    expect(Array.from(view().subarray(16, 20))).toEqual([9, 9, 9, 9]);
  });

  it('encodes offsets of 2 GiB and more as int32 that WebAssembly reads back as the same address', () => {
    const list = new CallList();
    list.call(0, [2 ** 31 + 8, 1, 5]);
    expect(Array.from(list.words())).toEqual([0, 3, -(2 ** 31) + 8, 1, 5]);
  });
});
