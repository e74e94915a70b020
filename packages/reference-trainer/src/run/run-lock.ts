import { join } from 'node:path';
import { RunDirectoryError } from '@vkd/core';
import { acquireAdvisoryLock, isHeldLock, type AdvisoryLock, type LockHolder } from '@vkd/core/node';

export { isStaleLock, processStartTime } from '@vkd/core/node';

/** The advisory lock file of a run directory. */
export const RUN_LOCK = 'vkd-run.lock';

/** Who holds a run directory (the content of `vkd-run.lock`). */
export type RunLockHolder = LockHolder;

/** A held lock; `release` removes it (only if it is still ours). */
export type RunLock = AdvisoryLock;

function describeHolder(holder: RunLockHolder): string {
  return `\`${holder.command}\` (pid ${holder.pid} on ${holder.hostname}, started ${holder.startedAt})`;
}

/**
 * Takes the advisory lock of run directory `directory` (which must exist); a stale lock (its process died, e.g.
 * after `kill -9`) is taken over and `onStale` is told whose it was.
 * @throws RunDirectoryError naming the holder when another live process holds the directory, or when the lock file
 * cannot be read (then it says how to remove it).
 */
export async function acquireRunLock(
  directory: string,
  command: string,
  onStale: (holder: RunLockHolder) => void = () => {},
): Promise<RunLock> {
  const path = join(directory, RUN_LOCK);
  const outcome = await acquireAdvisoryLock(path, command, onStale);
  if (isHeldLock(outcome)) return outcome;
  if (outcome.holder === undefined) {
    throw new RunDirectoryError(
      directory,
      `its lock file ${RUN_LOCK} cannot be read; if no vkd command is writing there, delete ${path} and retry.`,
    );
  }
  throw new RunDirectoryError(
    directory,
    `is in use by ${describeHolder(outcome.holder)}. Wait for it to finish, or use another --out. If that process is ` +
      `gone (e.g. on another machine), delete ${path}.`,
  );
}
