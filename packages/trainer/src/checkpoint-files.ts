import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';

/**
 * Writes `files` (name → bytes or text) into directory `target` atomically: everything goes to a sibling temp
 * directory first, each file is fsync'ed, then one `rename` publishes it. A crash leaves either the old directory
 * or the new one, never a half-written checkpoint.
 */
export async function writeDirectoryAtomically(
  target: string,
  files: Record<string, Uint8Array | string>,
): Promise<void> {
  const parent = path.dirname(target);
  await mkdir(parent, { recursive: true });
  const temporary = path.join(parent, `.${path.basename(target)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  await mkdir(temporary);
  try {
    for (const [name, content] of Object.entries(files)) {
      // Names may hold one sub-directory level (`model/model.json`): the embedded model directory.
      await mkdir(path.dirname(path.join(temporary, name)), { recursive: true });
      await writeSynced(path.join(temporary, name), content);
    }
    // rename() cannot replace a non-empty directory: move the old one aside, publish, then delete it.
    const previous = `${temporary}.old`;
    const hadPrevious = await rename(target, previous).then(
      () => true,
      (error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return false;
        throw error;
      },
    );
    await rename(temporary, target);
    if (hadPrevious) await rm(previous, { recursive: true, force: true });
  } catch (error) {
    await rm(temporary, { recursive: true, force: true });
    throw error;
  }
}

/** Writes one file atomically (temp file in the same directory + fsync + rename). */
export async function writeFileAtomically(target: string, content: Uint8Array | string): Promise<void> {
  await mkdir(path.dirname(target), { recursive: true });
  const temporary = `${target}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await writeSynced(temporary, content);
    await rename(temporary, target);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

async function writeSynced(file: string, content: Uint8Array | string): Promise<void> {
  const handle = await open(file, 'w');
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Appends text to a file, creating parent directories, whole or not at all: when the write fails part-way (a full
 * disk), the file is cut back to its previous length, so a JSONL log never ends in half a line.
 */
export async function appendText(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const handle = await open(file, 'a');
  try {
    const { size } = await handle.stat();
    try {
      await handle.writeFile(text);
    } catch (error) {
      await handle.truncate(size).catch(() => undefined);
      throw error;
    }
  } finally {
    await handle.close();
  }
}

/** Matches the temporary names of {@link writeDirectoryAtomically} and {@link writeFileAtomically}. */
const TEMPORARY_NAME = /^(?:\.(.+)|(.+))\.tmp-(\d+)-[0-9a-f]{8}(\.old)?$/;

/**
 * Cleans up after atomic writes interrupted by a crash (`kill -9`) in `directory`: a directory moved aside just
 * before its replacement was published is put back when the replacement is missing; every other temporary left by a
 * process that is no longer running is removed. Temporaries of live processes are left alone.
 * @returns the names removed or restored.
 */
export async function recoverInterruptedWrites(directory: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(directory);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const touched: string[] = [];
  for (const name of names.sort((a, b) => Number(b.endsWith('.old')) - Number(a.endsWith('.old')))) {
    const match = TEMPORARY_NAME.exec(name);
    if (!match) continue;
    const pid = Number(match[3]);
    if (pid === process.pid || processAlive(pid)) continue;
    const target = path.join(directory, (match[1] ?? match[2]) as string);
    const temporary = path.join(directory, name);
    if (match[4] !== undefined && !(await pathExists(target))) await rename(temporary, target);
    else await rm(temporary, { recursive: true, force: true });
    touched.push(name);
  }
  return touched;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function pathExists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}
