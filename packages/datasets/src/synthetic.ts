import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { DatasetFormatError, parseStrictJson } from '@vkd/core';
import { createConcurrencyLimit } from './concurrency-limit';
import { pathExists } from './dataset-files';
import { loadMars, type MarsOptions } from './mars';
import { generateSyntheticDataset, SYNTHETIC_GENERATOR, SYNTHETIC_MANIFEST } from './synthetic-dataset';
import { validateSyntheticOptions, type SyntheticDatasetOptions } from './synthetic-plan';
import {
  createIncomingFolder,
  finishInterruptedPublish,
  GENERATED_ENTRIES,
  listGeneratedFiles,
  publishGeneratedSet,
} from './synthetic-publish';
import type { ReidDataset } from './types';

/** Options of {@link loadSynthetic}. */
export interface SyntheticOptions extends MarsOptions {
  /**
   * Generator options (default `{}`: 40 identities, 4 cameras, 2 tracklets per identity and camera, 8 frames,
   * 128×64). The set is generated when `root` holds none (in a temporary folder, then moved into place, so an
   * interruption leaves nothing or the old set). `false`: load what is there, never generate.
   */
  readonly generate?: Omit<SyntheticDatasetOptions, 'root'> | false;
  /**
   * Replace a set this generator made with other options (default `false`: such a set is refused with the options
   * that differ). Only the files its `synthetic.json` lists are replaced; a set holding any other file under
   * `bbox_train/`, `bbox_test/` or `info/` is refused, and a MARS tree without the manifest is never touched.
   */
  readonly regenerate?: boolean;
}

/** What `synthetic.json` holds besides the generator's description. */
interface RecordedManifest {
  generator?: unknown;
  options?: Record<string, unknown>;
  /** Every file the generator wrote, relative to the root (absent in sets made before it was recorded). */
  files?: unknown;
  /** SHA-256 prefixes of `files`, in the same order (absent in manifests of older versions). */
  digests?: unknown;
}

/**
 * Loads (generating it first if needed) the synthetic multi-view set of `generateSyntheticDataset`: a MARS tree,
 * read by the MARS loader with the same protocols. Never deletes or overwrites a file it did not generate.
 * @throws DatasetFormatError when `root` holds a set made with other options (without `regenerate`), a damaged
 * manifest, or files the generator did not write where it would replace them.
 */
export async function loadSynthetic(options: SyntheticOptions): Promise<ReidDataset> {
  const root = resolve(options.root);
  // A publish interrupted by a crash is completed first (it only moves the generator's own files).
  await finishInterruptedPublish(root);
  if (options.generate !== false) {
    const wanted = validateSyntheticOptions(options.generate ?? {});
    const state = await generatedState(root, wanted);
    if (state.kind === 'stale' && !options.regenerate) {
      throw new DatasetFormatError(
        join(root, SYNTHETIC_MANIFEST),
        `holds a synthetic set generated ${state.reason}. Nothing was changed: use another root, load it as it is ` +
          '(generate: false), or replace it with regenerate: true (CLI: --regenerate).',
      );
    }
    if (state.kind === 'stale') await checkOnlyGeneratedFiles(root, state.files, state.digests);
    if (state.kind === 'stale' || state.kind === 'absent') await generateInPlace(root, wanted);
  }
  return loadMars({ ...options, name: options.name ?? 'synthetic' });
}

/** Generates into a fresh folder under `root`, records the files in the manifest, and publishes it. */
async function generateInPlace(root: string, wanted: Omit<SyntheticDatasetOptions, 'root'>): Promise<void> {
  const incoming = await createIncomingFolder(root);
  await generateSyntheticDataset({ ...wanted, root: incoming });
  const manifestPath = join(incoming, SYNTHETIC_MANIFEST);
  const manifest = parseStrictJson(await readFile(manifestPath, 'utf8')) as Record<string, unknown>;
  const files = (await listGeneratedFiles(incoming)).filter((file) => file !== SYNTHETIC_MANIFEST);
  // Digests too: a file the user replaced under one of these names (their own frames) is theirs, not the generator's.
  const digests = await digestFiles(incoming, files);
  await writeFile(manifestPath, `${JSON.stringify({ ...manifest, files, digests }, null, 2)}\n`);
  await publishGeneratedSet(root, incoming);
}

/** SHA-256 (first 16 hex digits) of each file: what `synthetic.json` records as written by the generator. */
async function digestFiles(root: string, files: readonly string[]): Promise<string[]> {
  const limit = createConcurrencyLimit(8);
  return Promise.all(
    files.map((file) =>
      limit(async () =>
        createHash('sha256')
          .update(await readFile(join(root, file)))
          .digest('hex')
          .slice(0, 16),
      ),
    ),
  );
}

/**
 * @throws DatasetFormatError naming a file under the generated entries that the manifest does not list, or a listed
 *   file whose content is no longer what the generator wrote (manifests with `digests`).
 */
async function checkOnlyGeneratedFiles(
  root: string,
  recorded: readonly string[],
  digests?: readonly string[],
): Promise<void> {
  if (digests !== undefined) {
    const present: string[] = [];
    for (const file of recorded) if (await pathExists(join(root, file))) present.push(file);
    const current = await digestFiles(root, present);
    const index = new Map(recorded.map((file, at) => [file, digests[at]]));
    const changed = present.find((file, at) => current[at] !== index.get(file));
    if (changed !== undefined) {
      throw new DatasetFormatError(
        join(root, changed),
        `has changed since the synthetic generator wrote it (its content differs from what ${SYNTHETIC_MANIFEST} records), so the set there is not replaced. ` +
          'Move your files away, or generate into another root.',
      );
    }
  }
  const listed = new Set(recorded);
  for (const entry of GENERATED_ENTRIES.filter((name) => name !== SYNTHETIC_MANIFEST)) {
    if (!(await pathExists(join(root, entry)))) continue;
    const foreign = (await listGeneratedFiles(join(root, entry)))
      .map((file) => `${entry}/${file}`)
      .find((file) => !listed.has(file));
    if (foreign !== undefined) {
      throw new DatasetFormatError(
        join(root, foreign),
        `was not written by the synthetic generator (its ${SYNTHETIC_MANIFEST} does not list it), so the set there is not replaced. ` +
          'Move your files away, or generate into another root.',
      );
    }
  }
}

type GeneratedState =
  | { kind: 'absent' | 'foreign' | 'current' }
  | { kind: 'stale'; reason: string; files: readonly string[]; digests?: readonly string[] };

/**
 * `'absent'`: nothing there; `'foreign'`: a MARS tree without our manifest (never touched); `'stale'`: our manifest
 * with another generator version or options, or with files missing; `'current'`.
 * @throws DatasetFormatError when the manifest is damaged or records no file list (ownership cannot be told).
 */
async function generatedState(root: string, wanted: object): Promise<GeneratedState> {
  const manifest = join(root, SYNTHETIC_MANIFEST);
  if (!(await pathExists(manifest))) {
    const anything = await Promise.all(GENERATED_ENTRIES.map((entry) => pathExists(join(root, entry))));
    return anything.some(Boolean) ? { kind: 'foreign' } : { kind: 'absent' };
  }
  let recorded: RecordedManifest;
  try {
    recorded = parseStrictJson(await readFile(manifest, 'utf8')) as RecordedManifest;
    if (typeof recorded !== 'object' || recorded === null) throw new Error('not a JSON object');
  } catch (error) {
    throw new DatasetFormatError(
      manifest,
      `cannot be read (${(error as Error).message}), so it cannot tell which files the generator wrote; nothing was changed. ` +
        'Delete the set yourself, or use another root.',
      { cause: error },
    );
  }
  const files =
    Array.isArray(recorded.files) && recorded.files.every((file) => typeof file === 'string')
      ? (recorded.files as string[])
      : undefined;
  const digests =
    Array.isArray(recorded.digests) &&
    recorded.digests.length === files?.length &&
    recorded.digests.every((digest) => typeof digest === 'string')
      ? (recorded.digests as string[])
      : undefined;
  const sameOptions =
    recorded.generator === SYNTHETIC_GENERATOR && JSON.stringify(recorded.options) === JSON.stringify(wanted);
  if (sameOptions && files === undefined && (await pathExists(join(root, 'info', 'tracks_test_info.mat'))))
    return { kind: 'current' };
  if (sameOptions && files !== undefined) {
    const missing = await firstMissing(root, files);
    if (missing === undefined) return { kind: 'current' };
    return {
      kind: 'stale',
      reason: `with these options but ${missing} is missing`,
      files,
      ...(digests ? { digests } : {}),
    };
  }
  if (files === undefined) {
    throw new DatasetFormatError(
      manifest,
      `records no list of generated files (${recorded.generator === SYNTHETIC_GENERATOR ? 'an older version of it' : 'another generator'}), so the set there cannot be ` +
        'replaced safely; nothing was changed. Delete it yourself, or generate into another root.',
    );
  }
  return { kind: 'stale', reason: describeDifference(recorded, wanted), files, ...(digests ? { digests } : {}) };
}

async function firstMissing(root: string, files: readonly string[]): Promise<string | undefined> {
  for (const file of files) if (!(await pathExists(join(root, file)))) return file;
  return undefined;
}

function describeDifference(recorded: RecordedManifest, wanted: object): string {
  if (recorded.generator !== SYNTHETIC_GENERATOR)
    return `by ${JSON.stringify(recorded.generator)}, not ${JSON.stringify(SYNTHETIC_GENERATOR)}`;
  const before = recorded.options ?? {};
  const after = wanted as Record<string, unknown>;
  const changed = [...new Set([...Object.keys(before), ...Object.keys(after)])]
    .filter((key) => JSON.stringify(before[key]) !== JSON.stringify(after[key]))
    .map((key) => `${key} ${JSON.stringify(before[key])} (wanted ${JSON.stringify(after[key])})`);
  return `with other options: ${changed.join(', ')}`;
}
