import type { Dirent } from 'node:fs';
import { access, readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DatasetFormatError, DatasetNotFoundError } from '@vkd/core';

/** One non-empty line of a text file with its 1-based line number (for error messages). */
export interface NumberedLine {
  readonly text: string;
  readonly line: number;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Checks that a dataset root and the given relative paths exist.
 * @throws DatasetNotFoundError listing every missing path and the expected layout.
 */
export async function requirePaths(root: string, relativePaths: readonly string[], layout: string): Promise<void> {
  if (!(await exists(root))) throw new DatasetNotFoundError(root, [root], layout);
  const missing: string[] = [];
  for (const path of relativePaths) if (!(await exists(join(root, path)))) missing.push(join(root, path));
  if (missing.length > 0) throw new DatasetNotFoundError(root, missing, layout);
}

/** True when `path` exists (file or folder). */
export const pathExists = exists;

/**
 * Reads a text list: strips `\r` (MARS lists are CRLF), trailing spaces and a BOM; keeps empty lines out
 * but numbers the others by their real line, so errors can name it.
 */
export async function readLines(file: string): Promise<NumberedLine[]> {
  const text = (await readFile(file, 'utf8')).replace(/^\uFEFF/, '');
  const lines: NumberedLine[] = [];
  text.split('\n').forEach((raw, index) => {
    const trimmed = raw.replace(/\s+$/, '');
    if (trimmed.length > 0) lines.push({ text: trimmed, line: index + 1 });
  });
  return lines;
}

/**
 * What a directory entry is, following symbolic links (a linked frame or folder counts as what it points to).
 * @throws DatasetFormatError for a broken link or a link loop, naming it.
 */
async function entryKind(folder: string, entry: Dirent): Promise<'directory' | 'file' | 'other'> {
  if (entry.isDirectory()) return 'directory';
  if (entry.isFile()) return 'file';
  if (!entry.isSymbolicLink()) return 'other';
  const path = join(folder, entry.name);
  try {
    const target = await stat(path);
    return target.isDirectory() ? 'directory' : target.isFile() ? 'file' : 'other';
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ELOOP'
        ? 'is a symbolic link loop'
        : code === 'ENOENT'
          ? 'is a broken symbolic link (its target does not exist)'
          : `is a symbolic link that cannot be followed (${code})`;
    throw new DatasetFormatError(path, `${reason}; fix or remove the link.`, { cause: error });
  }
}

/** Sorted names of the sub-folders of `folder` (numeric-aware, so `2` < `10`); links to folders count. */
export async function listFolders(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { withFileTypes: true });
  const kinds = await Promise.all(entries.map((entry) => entryKind(folder, entry)));
  return entries
    .filter((_, index) => kinds[index] === 'directory')
    .map((entry) => entry.name)
    .sort(compareNames);
}

/** Sorted image file names (`.jpg`, `.jpeg`, `.png`, `.bmp`, `.webp`) in `folder`; links to images count. */
export async function listImages(folder: string): Promise<string[]> {
  const entries = (await readdir(folder, { withFileTypes: true })).filter((entry) => IMAGE_EXTENSION.test(entry.name));
  const kinds = await Promise.all(entries.map((entry) => entryKind(folder, entry)));
  return entries
    .filter((_, index) => kinds[index] === 'file')
    .map((entry) => entry.name)
    .sort(compareNames);
}

/** Image file extensions the loaders accept. */
export const IMAGE_EXTENSION = /\.(jpe?g|png|bmp|webp)$/i;

/** Numeric-aware, locale-independent name order. */
export function compareNames(left: string, right: string): number {
  return left.localeCompare(right, 'en', { numeric: true });
}

/** True when `path` is a directory. */
export async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** Parses an integer field of a text/csv line. @throws DatasetFormatError with file and line. */
export function parseInteger(value: string | undefined, file: string, line: number, what: string): number {
  const trimmed = (value ?? '').trim();
  if (!/^-?\d+$/.test(trimmed))
    throw new DatasetFormatError(file, `expected an integer ${what}, found "${trimmed}"`, { line });
  return Number(trimmed);
}
