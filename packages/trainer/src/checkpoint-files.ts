import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * Writes `files` (name → bytes or text) into directory `target` atomically: everything goes to a sibling temp
 * directory first, each file is fsync'ed, then one `rename` publishes it. A crash leaves either the old directory
 * or the new one, never a half-written checkpoint.
 */
export async function writeDirectoryAtomically(target: string, files: Record<string, Uint8Array | string>): Promise<void> {
  const parent = path.dirname(target);
  await mkdir(parent, { recursive: true });
  const temporary = path.join(parent, `.${path.basename(target)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  await mkdir(temporary);
  try {
    for (const [name, content] of Object.entries(files)) await writeSynced(path.join(temporary, name), content);
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

/** Appends text to a file, creating parent directories. */
export async function appendText(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, text, { flag: 'a' });
}
