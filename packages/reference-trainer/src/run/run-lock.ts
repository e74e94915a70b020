import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { link, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { RunDirectoryError } from '@vkd/core';

/** The advisory lock file of a run directory. */
export const RUN_LOCK = 'vkd-run.lock';

/** Who holds a run directory (the content of `vkd-run.lock`). */
export interface RunLockHolder {
  readonly pid: number;
  readonly hostname: string;
  /** Start of the holding process in clock ticks since boot (`/proc/<pid>/stat` field 22); absent off Linux. */
  readonly processStart?: string;
  readonly startedAt: string;
  readonly command: string;
}

/** A held lock; `release` removes it (only if it is still ours). */
export interface RunLock {
  readonly holder: RunLockHolder;
  release(): Promise<void>;
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
export function isStaleLock(holder: RunLockHolder): boolean {
  if (holder.hostname !== hostname()) return false;
  if (!processAlive(holder.pid)) return true;
  const start = processStartTime(holder.pid);
  return holder.processStart !== undefined && start !== undefined && start !== holder.processStart;
}

function describeHolder(holder: RunLockHolder): string {
  return `\`${holder.command}\` (pid ${holder.pid} on ${holder.hostname}, started ${holder.startedAt})`;
}

async function readHolder(path: string): Promise<RunLockHolder | undefined> {
  try {
    const holder = JSON.parse(await readFile(path, 'utf8')) as RunLockHolder;
    return typeof holder.pid === 'number' && typeof holder.hostname === 'string' ? holder : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Takes the advisory lock of run directory `directory` (which must exist). The lock file is written whole under a
 * temporary name and published with `link()`, which fails when a lock exists, so two writers never both succeed.
 * A stale lock (its process died, e.g. after `kill -9`) is taken over; `onStale` is told whose it was.
 * @throws RunDirectoryError naming the holder when another live process holds the directory, or when the lock file
 * cannot be read (then it says how to remove it).
 */
export async function acquireRunLock(
  directory: string,
  command: string,
  onStale: (holder: RunLockHolder) => void = () => {},
): Promise<RunLock> {
  const path = join(directory, RUN_LOCK);
  const start = processStartTime(process.pid);
  const holder: RunLockHolder = {
    pid: process.pid,
    hostname: hostname(),
    ...(start === undefined ? {} : { processStart: start }),
    startedAt: new Date().toISOString(),
    command,
  };
  const temporary = join(directory, `.${RUN_LOCK}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  await writeFile(temporary, `${JSON.stringify(holder)}\n`);
  try {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await link(temporary, path);
        return {
          holder,
          async release() {
            const current = await readHolder(path);
            if (current?.pid === holder.pid && current.startedAt === holder.startedAt) await rm(path, { force: true });
          },
        };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const current = await readHolder(path);
      if (current === undefined) {
        throw new RunDirectoryError(directory, `its lock file ${RUN_LOCK} cannot be read; if no vkd command is writing there, delete ${path} and retry.`);
      }
      if (!isStaleLock(current)) {
        throw new RunDirectoryError(
          directory,
          `is in use by ${describeHolder(current)}. Wait for it to finish, or use another --out. If that process is gone ` +
            `(e.g. on another machine), delete ${path}.`,
        );
      }
      onStale(current);
      await rm(path, { force: true });
    }
    throw new RunDirectoryError(directory, `another process took its lock while a stale one was replaced; retry.`);
  } finally {
    await rm(temporary, { force: true });
  }
}
