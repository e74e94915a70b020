import { VkdError } from '@vkd/core';
import type { LockRefusal } from '@vkd/core/node';

/** Another writer holds a gallery's lock; names the holder. */
export class GalleryLockedError extends VkdError {
  readonly directory: string;
  readonly refusal: LockRefusal;

  constructor(directory: string, refusal: LockRefusal) {
    const holder = refusal.holder;
    super(
      holder === undefined
        ? `Gallery ${directory}: its lock file ${refusal.file} cannot be read; if no process is writing this ` +
            'gallery, delete that file and retry.'
        : `Gallery ${directory} is being written by process ${holder.pid} on ${holder.hostname} (${holder.command}, ` +
            `since ${holder.startedAt}). Wait for it to finish, or open the gallery read-only to search it. If that ` +
            `process no longer exists on its machine, delete ${refusal.file}.`,
    );
    this.name = 'GalleryLockedError';
    this.directory = directory;
    this.refusal = refusal;
  }
}
