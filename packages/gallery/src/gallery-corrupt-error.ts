import { VkdError } from '@vkd/core';

/** A gallery directory is missing a part or cannot be read; names the directory and what is wrong. */
export class GalleryCorruptError extends VkdError {
  readonly directory: string;
  readonly reason: string;

  constructor(directory: string, reason: string, options: { cause?: unknown } = {}) {
    super(
      `Gallery ${directory}: ${reason}. Restore the directory from a copy, or index the tracklets again into a new ` +
        '--db directory (nothing in this one was changed).',
      options,
    );
    this.name = 'GalleryCorruptError';
    this.directory = directory;
    this.reason = reason;
  }
}
