/**
 * Entry of a frame worker thread (see `frame-worker-pool.ts`): runs `loadFrameInto` for each message
 * `{ id, job, settings, buffer }`, writing into the batch's SharedArrayBuffer, and answers `{ id }` or
 * `{ id, error }` (a serialised typed error).
 */
import { parentPort } from 'node:worker_threads';
import { serializeFrameError } from './frame-error';
import { loadFrameInto, type FrameJob, type FrameSettings } from './frame-job';

/** A request to a frame worker. */
export interface FrameRequest {
  readonly id: number;
  readonly job: FrameJob;
  readonly settings: FrameSettings;
  readonly buffer: SharedArrayBuffer;
}

const port = parentPort;
if (port) {
  port.on('message', (request: FrameRequest) => {
    loadFrameInto(request.job, request.settings, new Float32Array(request.buffer)).then(
      () => port.postMessage({ id: request.id }),
      (error: unknown) => port.postMessage({ id: request.id, error: serializeFrameError(error) }),
    );
  });
}
