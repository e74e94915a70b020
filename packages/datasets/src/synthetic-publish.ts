import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

/** The top-level entries of a generated set, in the order they are published (the manifest last). */
export const GENERATED_ENTRIES = ['bbox_train', 'bbox_test', 'info', 'synthetic.json'] as const;

/** Records an unfinished publish: the incoming set and where the replaced one was moved. */
const JOURNAL = '.vkd-synthetic-publish.json';
const TEMPORARY_PREFIX = '.vkd-synthetic-';

interface Journal {
  readonly incoming: string;
  readonly outgoing: string;
}

/** A fresh, empty folder under `root` to generate into (`root/.vkd-synthetic-<pid>-<hex>`). */
export async function createIncomingFolder(root: string): Promise<string> {
  await mkdir(root, { recursive: true });
  const folder = join(root, `${TEMPORARY_PREFIX}${process.pid}-${randomBytes(4).toString('hex')}`);
  await mkdir(folder);
  return folder;
}

/** Files under `folder`, `/`-separated relative paths, sorted. */
export async function listGeneratedFiles(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => !entry.isDirectory())
    .map((entry) => relative(folder, join(entry.parentPath, entry.name)).split(sep).join('/'))
    .sort();
}

/**
 * Moves the set generated in `incoming` into `root`, replacing the generated entries there (which the caller has
 * checked hold only files the generator wrote). A journal makes it restartable: an interruption leaves the old set,
 * or a journal that {@link finishInterruptedPublish} completes, never a mix of old and new files.
 */
export async function publishGeneratedSet(root: string, incoming: string): Promise<void> {
  const journal: Journal = { incoming: relative(root, incoming), outgoing: `${relative(root, incoming)}.old` };
  const temporary = join(root, `${JOURNAL}.tmp-${process.pid}`);
  await writeFile(temporary, JSON.stringify(journal));
  await rename(temporary, join(root, JOURNAL));
  await rollForward(root, journal);
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}

/** Old entries out (manifest first), new entries in (manifest last), then the old set and the journal go. */
async function rollForward(root: string, journal: Journal): Promise<void> {
  const incoming = join(root, journal.incoming);
  const outgoing = join(root, journal.outgoing);
  await mkdir(outgoing, { recursive: true });
  // An entry still in `incoming` has not been published yet, so what `root` holds under that name is the old one.
  for (const entry of [...GENERATED_ENTRIES].reverse()) {
    if ((await exists(join(incoming, entry))) && (await exists(join(root, entry))))
      await rename(join(root, entry), join(outgoing, entry));
  }
  for (const entry of GENERATED_ENTRIES) {
    if (await exists(join(incoming, entry))) await rename(join(incoming, entry), join(root, entry));
  }
  await rm(join(root, JOURNAL), { force: true });
  await rm(outgoing, { recursive: true, force: true });
  await rm(incoming, { recursive: true, force: true });
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
 * Completes a publish interrupted by a crash (from its journal), and removes the generation folders that crashed
 * generators left (`.vkd-synthetic-<pid>-*` of processes no longer running). Nothing else is touched.
 */
export async function finishInterruptedPublish(root: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(root);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  if (names.includes(JOURNAL)) {
    const journal = JSON.parse(await readFile(join(root, JOURNAL), 'utf8')) as Journal;
    // Only our own folder names, never a path elsewhere.
    const ours = /^\.vkd-synthetic-\d+-[0-9a-f]{8}$/;
    if (ours.test(journal.incoming) && journal.outgoing === `${journal.incoming}.old`) await rollForward(root, journal);
  }
  for (const name of names) {
    const match = /^\.vkd-synthetic-(\d+)-[0-9a-f]{8}(\.old)?$/.exec(name);
    if (match && !processAlive(Number(match[1]))) await rm(join(root, name), { recursive: true, force: true });
  }
  for (const name of names) if (name.startsWith(`${JOURNAL}.tmp-`)) await rm(join(root, name), { force: true });
}
