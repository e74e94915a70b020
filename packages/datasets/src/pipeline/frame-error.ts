import { DatasetFormatError } from '@vkd/core';
import { CorruptImageError } from '../corrupt-image-error';

/** An error of a frame worker in a form that crosses `postMessage` and is rebuilt with its type on the other side. */
export type SerializedFrameError =
  | { readonly kind: 'corrupt'; readonly file: string; readonly decoderMessage: string; readonly reason: string }
  | { readonly kind: 'format'; readonly file: string; readonly reason: string }
  | { readonly kind: 'other'; readonly name: string; readonly message: string; readonly stack?: string };

/** The typed errors `loadFrameInto` throws, as plain data. */
export function serializeFrameError(error: unknown): SerializedFrameError {
  if (CorruptImageError.isInstance(error)) {
    return { kind: 'corrupt', file: error.file, decoderMessage: error.decoderMessage, reason: error.reason };
  }
  if (error instanceof DatasetFormatError) return { kind: 'format', file: error.file, reason: error.reason };
  const plain = error instanceof Error ? error : new Error(String(error));
  return { kind: 'other', name: plain.name, message: plain.message, ...(plain.stack ? { stack: plain.stack } : {}) };
}

/** Rebuilds the error of a frame worker: the same class, file and message as when decoding on the calling thread. */
export function reviveFrameError(error: SerializedFrameError): Error {
  const cause = { cause: new Error('raised in a frame worker of createTrackletLoader') };
  switch (error.kind) {
    case 'corrupt':
      return new CorruptImageError(error.file, error.decoderMessage, error.reason, cause);
    case 'format':
      return new DatasetFormatError(error.file, error.reason, cause);
    default: {
      const revived = new Error(error.message, cause);
      revived.name = error.name;
      if (error.stack) revived.stack = error.stack;
      return revived;
    }
  }
}
