import { CheckpointError, importNodeBuiltin } from '@vkd/core';

type FileSystem = typeof import('node:fs/promises');

/** Reads a whole file in Node (`node:fs` is loaded at call time, so the package still bundles for browsers). */
export async function readFileBytes(path: string): Promise<Uint8Array> {
  const { readFile } = await importNodeBuiltin<FileSystem>('node:fs/promises', 'reading a file');
  try {
    const buffer = await readFile(path);
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  } catch (error) {
    throw new CheckpointError(path, `cannot read the file (${(error as Error).message}).`, { cause: error });
  }
}

/** Writes a file atomically: to `<path>.tmp-<pid>` first, then renamed over `path`. */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const { writeFile, rename } = await importNodeBuiltin<FileSystem>('node:fs/promises', 'writing a file');
  const temporary = `${path}.tmp-${process.pid}`;
  try {
    await writeFile(temporary, data);
    await rename(temporary, path);
  } catch (error) {
    throw new CheckpointError(path, `cannot write the file (${(error as Error).message}).`, { cause: error });
  }
}
