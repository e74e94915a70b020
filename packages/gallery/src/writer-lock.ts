import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Who holds a writer lock (the lock file's content). */
export interface WriterLockHolder {
  readonly pid: number;
  readonly hostname: string;
  readonly startedAt: string;
  readonly purpose: string;
  readonly lockFile: string;
}

/** A held lock; `release()` removes the lock file (only if it is still ours). */
export interface WriterLock {
  readonly file: string;
  release(): void;
}

/**
 * Takes an advisory lock by creating `file` exclusively. A lock left by a process of this host that no longer runs
 * (a crash, kill -9) is stale and taken over; any other existing lock is returned as its holder.
 * @returns the lock, or the holder when someone else has it.
 */
export function acquireWriterLock(file: string, purpose: string): WriterLock | WriterLockHolder {
  const mine = { pid: process.pid, hostname: os.hostname(), startedAt: new Date().toISOString(), purpose };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const handle = fs.openSync(file, 'wx');
      fs.writeSync(handle, `${JSON.stringify(mine)}\n`);
      fs.closeSync(handle);
      return { file, release: () => releaseIfMine(file, mine.pid, mine.startedAt) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = readHolder(file);
    if (holder === undefined) continue; // removed between our open and read: try again
    if (!isStale(holder)) return holder;
    // Stale: the holder's process is gone. Rename before removing, so two processes cannot both take it over.
    const claimed = `${file}.stale-${process.pid}`;
    try {
      fs.renameSync(file, claimed);
      fs.rmSync(claimed, { force: true });
    } catch {
      // another process took it over first; loop and look again
    }
  }
  return readHolder(file) ?? { ...mine, pid: -1, purpose: 'unknown', lockFile: file };
}

function readHolder(file: string): WriterLockHolder | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const parsed = JSON.parse(text) as Omit<WriterLockHolder, 'lockFile'>;
    return { ...parsed, lockFile: file };
  } catch {
    // Unreadable content (e.g. a writer killed between create and write): treat as held by an unknown process of
    // this host that is gone only if the file is old enough that no live writer can still be writing it.
    const ageMs = Date.now() - fs.statSync(file).mtimeMs;
    return { pid: ageMs > 10_000 ? 0 : -1, hostname: os.hostname(), startedAt: 'unknown', purpose: 'unknown', lockFile: file };
  }
}

function isStale(holder: WriterLockHolder): boolean {
  if (holder.hostname !== os.hostname()) return false; // cannot check another machine's processes
  if (holder.pid === 0) return true;
  if (holder.pid < 0) return false;
  try {
    process.kill(holder.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

function releaseIfMine(file: string, pid: number, startedAt: string): void {
  const holder = readHolder(file);
  if (holder !== undefined && holder.pid === pid && holder.startedAt === startedAt) fs.rmSync(file, { force: true });
}
