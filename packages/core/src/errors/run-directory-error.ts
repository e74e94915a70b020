import { VkdError } from './vkd-error';

/**
 * A run directory cannot be used as asked: it holds files this run did not write, another process holds its lock,
 * or it has nothing to resume. `directory` is the run directory, `reason` says what to do.
 */
export class RunDirectoryError extends VkdError {
  readonly directory: string;
  readonly reason: string;

  constructor(directory: string, reason: string, options: { cause?: unknown } = {}) {
    super(`Run directory ${directory}: ${reason}`, options);
    this.name = 'RunDirectoryError';
    this.directory = directory;
    this.reason = reason;
  }
}
