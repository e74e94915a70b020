import { VkdError } from '@vkd/core';
import type { WriterLockHolder } from './writer-lock';

/** Another writer holds a gallery's lock; names the holder. */
export class GalleryLockedError extends VkdError {
  readonly directory: string;
  readonly holder: WriterLockHolder;

  constructor(directory: string, holder: WriterLockHolder) {
    super(
      `Gallery ${directory} is being written by process ${holder.pid} on ${holder.hostname} (${holder.purpose}, ` +
        `since ${holder.startedAt}). Wait for it to finish, or open the gallery read-only to search it. If that ` +
        `process no longer exists on its machine, delete ${holder.lockFile}.`,
    );
    this.name = 'GalleryLockedError';
    this.directory = directory;
    this.holder = holder;
  }
}
