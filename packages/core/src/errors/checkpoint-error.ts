import { VkdError } from './vkd-error';

/** A checkpoint cannot be written, read or matched to a model. */
export class CheckpointError extends VkdError {
  readonly path: string;
  readonly reason: string;

  constructor(path: string, reason: string, options: { cause?: unknown } = {}) {
    super(`Checkpoint ${path}: ${reason}`, options);
    this.name = 'CheckpointError';
    this.path = path;
    this.reason = reason;
  }
}
