import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { link, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, basename, join } from 'node:path';

/** Who holds an advisory lock (the lock file's content). */
export interface LockHolder {
  readonly pid: number;
  readonly hostname: string;
  /** Start of the holding process in clock ticks since boot (`/proc/<pid>/stat` field 22); absent off Linux. */
  readonly processStart?: string;
  readonly startedAt: string;
  /** What the holder is doing, e.g. the command line. */
  readonly command: string;
  /** Random, per acquisition: tells apart two locks taken by one process in the same millisecond. */
  readonly token?: string;
}

/** A held lock; `release` removes the lock file (only if it is still ours). */
export interface AdvisoryLock {
  readonly file: string;
  readonly holder: LockHolder;
  release(): Promise<void>;
}

/** The lock is taken: by `holder`, or by someone whose lock file cannot be read (`holder` undefined). */
export interface LockRefusal {
  readonly file: string;
  readonly holder: LockHolder | undefined;
}

/** Field 22 of `/proc/<pid>/stat` (start time), or undefined when there is no such process or no `/proc`. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19];
  } catch {
    return undefined;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether the process that wrote `holder` is gone: same host, and no process with that pid, or one that started at
 * another time (the pid was reused). A lock from another host is never called stale (it cannot be checked from here).
 */
export function isStaleLock(holder: LockHolder): boolean {
  if (holder.hostname !== hostname()) return false;
  if (!processAlive(holder.pid)) return true;
  const start = processStartTime(holder.pid);
  return holder.processStart !== undefined && start !== undefined && start !== holder.processStart;
}

/** The holder recorded in a lock file, or undefined when it is missing or unreadable. */
export async function readLockHolder(file: string): Promise<LockHolder | undefined> {
  const holder = await readLockFile(file);
  return holder === 'missing' ? undefined : holder;
}

/** The holder in a lock file; `'missing'` when there is none (e.g. a taker just removed it); undefined: unreadable. */
async function readLockFile(file: string): Promise<LockHolder | 'missing' | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : undefined;
  }
  try {
    const holder = JSON.parse(text) as LockHolder;
    return typeof holder.pid === 'number' && typeof holder.hostname === 'string' ? holder : undefined;
  } catch {
    return undefined;
  }
}

/** Same holder: the same process (pid and start) that took the lock at the same moment. */
function sameHolder(one: LockHolder, other: LockHolder): boolean {
  return (
    one.pid === other.pid &&
    one.hostname === other.hostname &&
    one.startedAt === other.startedAt &&
    one.processStart === other.processStart &&
    one.token === other.token
  );
}

const pause = (milliseconds: number) => new Promise((done) => setTimeout(done, milliseconds));

/**
 * Removes the stale lock `file` of `stale`, atomically with respect to other processes doing the same: two processes
 * that both read the same stale lock must not both remove "it" (the second would remove the first's fresh lock and
 * both would hold the directory). The check-and-remove runs under a takeover guard, `file.takeover`, published with
 * `link()` like the lock itself; under it the lock is read again and removed only if it is still `stale`'s.
 * A guard left by a taker that died inside this (millisecond) window is itself stale and removed.
 * @returns 'removed', 'changed' (someone else took over first: read the lock again) or 'busy' (another taker holds
 *   the guard: retry shortly).
 */
async function removeStaleLock(
  file: string,
  stale: LockHolder,
  temporary: string,
): Promise<'removed' | 'changed' | 'busy'> {
  const guard = `${file}.takeover`;
  try {
    await link(temporary, guard);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const taker = await readLockHolder(guard);
    if (taker !== undefined && isStaleLock(taker)) {
      const again = await readLockHolder(guard);
      if (again !== undefined && sameHolder(again, taker)) await rm(guard, { force: true });
    }
    return 'busy';
  }
  try {
    const current = await readLockHolder(file);
    if (current === undefined || !sameHolder(current, stale)) return 'changed';
    await rm(file, { force: true });
    return 'removed';
  } finally {
    await rm(guard, { force: true });
  }
}

/** How often a lock is tried while other processes take a stale one over (about a second in all). */
const TAKEOVER_ATTEMPTS = 200;

/**
 * Takes the advisory lock `file` (its directory must exist). The lock file is written whole under a temporary name
 * and published with `link()`, which fails when a lock exists, so two writers never both succeed and a reader never
 * sees a half-written holder. A stale lock (its process died, e.g. after `kill -9`) is taken over, atomically: of
 * several processes that find it stale at once, exactly one gets the lock (see `removeStaleLock`); `onStale` is told
 * whose it was.
 * @returns the lock, or a refusal naming the live holder (or an unreadable lock file) for the caller's own error.
 */
export async function acquireAdvisoryLock(
  file: string,
  command: string,
  onStale: (holder: LockHolder) => void = () => {},
): Promise<AdvisoryLock | LockRefusal> {
  const start = processStartTime(process.pid);
  const holder: LockHolder = {
    pid: process.pid,
    hostname: hostname(),
    ...(start === undefined ? {} : { processStart: start }),
    startedAt: new Date().toISOString(),
    command,
    token: randomBytes(8).toString('hex'),
  };
  const temporary = join(dirname(file), `.${basename(file)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  await writeFile(temporary, `${JSON.stringify(holder)}\n`);
  try {
    for (let attempt = 0; attempt < TAKEOVER_ATTEMPTS; attempt++) {
      try {
        await link(temporary, file);
        return {
          file,
          holder,
          async release() {
            const current = await readLockHolder(file);
            if (current !== undefined && sameHolder(current, holder)) await rm(file, { force: true });
          },
        };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const current = await readLockFile(file);
      // Removed between link() and the read (a taker at work): try again.
      if (current === 'missing') continue;
      if (current === undefined) return { file, holder: undefined };
      if (!isStaleLock(current)) return { file, holder: current };
      const outcome = await removeStaleLock(file, current, temporary);
      if (outcome === 'removed') onStale(current);
      else if (outcome === 'busy') await pause(5);
    }
    return { file, holder: await readLockHolder(file) };
  } finally {
    await rm(temporary, { force: true });
  }
}

/** Whether `acquireAdvisoryLock` returned the lock (rather than a refusal). */
export function isHeldLock(outcome: AdvisoryLock | LockRefusal): outcome is AdvisoryLock {
  return 'release' in outcome;
}
