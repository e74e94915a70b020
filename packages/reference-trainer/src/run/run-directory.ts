import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { InvalidOptionError, parseStrictJson, RunDirectoryError } from '@vkd/core';
import { acquireRunLock, RUN_LOCK, type RunLock } from './run-lock';

/** The manifest of a run directory: every file the runs there wrote (and nothing else). */
export const RUN_MANIFEST = 'vkd-run.json';

const MANIFEST_FORMAT = 'vkd-run-manifest';

/** `vkd-run.json`. */
export interface RunManifest {
  readonly format: typeof MANIFEST_FORMAT;
  readonly version: 1;
  /** The last command that wrote there. */
  readonly command: string;
  /** Files written by vkd runs, relative to the run directory, `/`-separated, sorted. */
  readonly files: readonly string[];
}

/**
 * `'fresh'`: a new run; the directory must be empty (apart from `keep` entries). `'resume'`: continue the run there;
 * nothing is removed. `'replace'` (`--force`): remove the files earlier vkd runs listed in the manifest, keep
 * everything else, and refuse when something this run would write is still there afterwards.
 */
export type RunDirectoryMode = 'fresh' | 'resume' | 'replace';

/**
 * The mode of `--resume` / `--force`.
 * @throws InvalidOptionError when both are given.
 */
export function runDirectoryMode(resume: boolean, force: boolean): RunDirectoryMode {
  if (resume && force)
    throw new InvalidOptionError(
      '--force',
      true,
      '--force starts a new run (replacing an earlier one), --resume continues it: pass one of them.',
    );
  return resume ? 'resume' : force ? 'replace' : 'fresh';
}

/** Options of {@link openRunDirectory}. */
export interface RunDirectoryOptions {
  readonly mode: RunDirectoryMode;
  /** The command line, recorded in the lock and the manifest. */
  readonly command: string;
  /** Top-level entries (files or directories) this run writes. */
  readonly writes: readonly string[];
  /** Top-level entries that may already be there and are left alone (the demo's `data/`, owned by its generator). */
  readonly keep?: readonly string[];
  /** Told about a stale lock that was taken over. */
  readonly onWarning?: (text: string) => void;
}

/** An open, locked run directory. */
export interface RunDirectory {
  readonly path: string;
  readonly mode: RunDirectoryMode;
  /** Adds every file now under `entries` (paths in the run directory) to the manifest and saves it atomically. */
  record(...entries: string[]): Promise<void>;
  /**
   * Lists files this run is about to write (which need not exist yet), so that a run killed while writing them
   * still owns them: `--force` can then remove them. Paths inside the run directory.
   */
  claim(...files: string[]): Promise<void>;
  /** Saves the manifest and releases the lock. */
  close(): Promise<void>;
}

/**
 * Opens (creating it) and locks a run directory. A run owns only the files it writes, listed in `vkd-run.json`;
 * it never removes anything else.
 * @throws RunDirectoryError when another process holds the directory, when a fresh run finds it non-empty, when
 * `--force` would have to touch files no vkd run wrote, or when the manifest is damaged.
 */
export async function openRunDirectory(directory: string, options: RunDirectoryOptions): Promise<RunDirectory> {
  const root = resolve(directory);
  await mkdir(root, { recursive: true });
  const lock = await acquireRunLock(root, options.command, (holder) => {
    options.onWarning?.(
      `${root}: took over the lock of \`${holder.command}\` (pid ${holder.pid}, started ${holder.startedAt}), which is no longer running.`,
    );
  });
  try {
    await removeDeadTemporaries(root);
    const previous = await readManifest(root);
    const files = new Set(options.mode === 'replace' ? [] : (previous?.files ?? []));
    if (options.mode === 'fresh') {
      const present = await foreignEntries(root, options.keep ?? []);
      if (present.length > 0) {
        throw new RunDirectoryError(
          root,
          `is not empty (${present.slice(0, 5).join(', ')}${present.length > 5 ? ', …' : ''}). Pass --resume to continue the run ` +
            'there, --force to replace what earlier vkd runs wrote there (files they did not write are kept), or another --out.',
        );
      }
    }
    if (options.mode === 'replace') {
      // Check first, remove after: a refused --force changes nothing.
      const listed = new Set(previous?.files ?? []);
      for (const entry of options.writes) {
        const foreign = (await listFiles(root, entry)).filter((file) => !listed.has(file));
        if (foreign.length > 0) {
          throw new RunDirectoryError(
            root,
            `--force replaces only what earlier vkd runs wrote (listed in ${RUN_MANIFEST}), but ${foreign.slice(0, 3).join(', ')}` +
              `${foreign.length > 3 ? ', …' : ''} ${foreign.length === 1 ? 'is' : 'are'} not listed there; nothing was removed. Move ` +
              `${foreign.length === 1 ? 'it' : 'them'} away or use another --out.`,
          );
        }
      }
      await removeListedFiles(root, previous?.files ?? []);
    }
    const run = createRunDirectory(root, options, lock, files);
    await run.record();
    return run;
  } catch (error) {
    await lock.release();
    throw error;
  }
}

function createRunDirectory(
  root: string,
  options: RunDirectoryOptions,
  lock: RunLock,
  files: Set<string>,
): RunDirectory {
  const save = () => {
    const manifest: RunManifest = {
      format: MANIFEST_FORMAT,
      version: 1,
      command: options.command,
      files: [...files].sort(),
    };
    return writeAtomically(join(root, RUN_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  };
  return {
    path: root,
    mode: options.mode,
    async record(...entries) {
      for (const entry of entries) {
        const relativePath = isAbsolute(entry) ? relative(root, entry) : entry;
        if (relativePath.startsWith('..'))
          throw new RunDirectoryError(root, `cannot record ${entry}: it is outside the run directory.`);
        for (const file of await listFiles(root, relativePath)) files.add(file);
      }
      await save();
    },
    async claim(...claimed) {
      let added = false;
      for (const file of claimed) {
        const relativePath = toManifestPath(isAbsolute(file) ? relative(root, file) : file);
        if (relativePath.startsWith('..'))
          throw new RunDirectoryError(root, `cannot claim ${file}: it is outside the run directory.`);
        if (!files.has(relativePath)) {
          files.add(relativePath);
          added = true;
        }
      }
      if (added) await save();
    },
    async close() {
      try {
        await save();
      } finally {
        await lock.release();
      }
    },
  };
}

/** Reads `vkd-run.json`, undefined when there is none. @throws RunDirectoryError when it is damaged. */
export async function readManifest(root: string): Promise<RunManifest | undefined> {
  const path = join(root, RUN_MANIFEST);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new RunDirectoryError(root, `cannot read ${RUN_MANIFEST}: ${(error as Error).message}`, { cause: error });
  }
  try {
    const manifest = parseStrictJson(text) as RunManifest;
    if (
      manifest.format !== MANIFEST_FORMAT ||
      !Array.isArray(manifest.files) ||
      manifest.files.some((file) => typeof file !== 'string')
    ) {
      throw new Error(`expected { format: "${MANIFEST_FORMAT}", files: [...] }`);
    }
    return manifest;
  } catch (error) {
    throw new RunDirectoryError(
      root,
      `${RUN_MANIFEST} is damaged (${(error as Error).message}), so it cannot tell which files vkd wrote there; nothing was removed. ` +
        'Use another --out, or clear the directory yourself.',
      { cause: error },
    );
  }
}

/** Top-level entries other than the lock, the manifest and `keep`. */
async function foreignEntries(root: string, keep: readonly string[]): Promise<string[]> {
  const names = await readdir(root);
  return names
    .filter(
      (name) =>
        name !== RUN_LOCK && name !== RUN_MANIFEST && !name.startsWith(`.${RUN_LOCK}.tmp-`) && !keep.includes(name),
    )
    .sort();
}

/** Files (and links) under `entry` (a path relative to `root`), as `/`-separated paths relative to `root`. */
async function listFiles(root: string, entry: string): Promise<string[]> {
  const path = join(root, entry);
  const info = await lstat(path).catch(() => undefined);
  if (info === undefined) return [];
  if (!info.isDirectory()) return entry === '' ? [] : [toManifestPath(entry)];
  const found: string[] = [];
  for (const name of await readdir(path)) {
    if (entry === '' && (name === RUN_LOCK || name === RUN_MANIFEST)) continue;
    found.push(...(await listFiles(root, entry === '' ? name : join(entry, name))));
  }
  return found;
}

function toManifestPath(path: string): string {
  return path.split(sep).join('/');
}

/** Removes the listed files (never directories), then the directories that became empty, deepest first. */
async function removeListedFiles(root: string, files: readonly string[]): Promise<void> {
  const parents = new Set<string>();
  for (const file of files) {
    const path = resolve(root, file);
    if (!path.startsWith(`${root}${sep}`)) continue; // a manifest never lists paths outside the run
    const info = await lstat(path).catch(() => undefined);
    if (info === undefined || info.isDirectory()) continue;
    await rm(path, { force: true });
    for (let parent = dirname(path); parent.startsWith(`${root}${sep}`); parent = dirname(parent)) parents.add(parent);
  }
  for (const parent of [...parents].sort((a, b) => b.length - a.length)) await rmdir(parent).catch(() => undefined);
}

/** Temporaries of the manifest and the lock left by processes that are no longer running (e.g. after kill -9). */
async function removeDeadTemporaries(root: string): Promise<void> {
  for (const name of await readdir(root)) {
    const match = new RegExp(`^(?:${RUN_MANIFEST}|\\.${RUN_LOCK})\\.tmp-(\\d+)-[0-9a-f]{8}$`).exec(name);
    if (match && Number(match[1]) !== process.pid && !processAlive(Number(match[1])))
      await rm(join(root, name), { force: true });
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

async function writeAtomically(path: string, text: string): Promise<void> {
  const temporary = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await writeFile(temporary, text);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
