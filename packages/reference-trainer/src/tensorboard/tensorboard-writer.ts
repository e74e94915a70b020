import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { encodeEvent, frameRecord } from './event-encoding';

/** Writes scalars to a TensorBoard event file (`events.out.tfevents.<seconds>.<host>.<pid>.<n>`). */
export interface TensorBoardWriter {
  /** The event file. */
  readonly path: string;
  /** Appends one scalar (TensorBoard's SCALARS tab) at `step`; non-finite values are written as they are. */
  scalar(tag: string, value: number, step: number): void;
}

let writers = 0;

/**
 * Creates `directory` and a new event file in it, starting with the `brain.Event:2` version record, as TensorFlow's
 * `tf.summary` / PyTorch's `SummaryWriter` do; `tensorboard --logdir <parent>` shows each directory as a run.
 * Records are appended synchronously, one per scalar, so a crash loses nothing already logged.
 * @param now wall clock in seconds (tests).
 */
export function createTensorBoardWriter(
  directory: string,
  now: () => number = () => Date.now() / 1000,
): TensorBoardWriter {
  mkdirSync(directory, { recursive: true });
  const started = now();
  // time.host.pid.n, as TensorFlow names them: two writers never share a file.
  const path = join(directory, `events.out.tfevents.${Math.floor(started)}.${hostname()}.${process.pid}.${writers++}`);
  writeFileSync(path, frameRecord(encodeEvent({ wallTime: started, step: 0, fileVersion: 'brain.Event:2' })), {
    flag: 'wx',
  });
  return {
    path,
    scalar(tag, value, step) {
      appendFileSync(path, frameRecord(encodeEvent({ wallTime: now(), step, scalars: [{ tag, value }] })));
    },
  };
}
