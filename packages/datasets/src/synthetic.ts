import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pathExists } from './dataset-files';
import { loadMars, type MarsOptions } from './mars';
import { generateSyntheticDataset, SYNTHETIC_GENERATOR, SYNTHETIC_MANIFEST } from './synthetic-dataset';
import { validateSyntheticOptions, type SyntheticDatasetOptions } from './synthetic-plan';
import type { ReidDataset } from './types';

/** Options of {@link loadSynthetic}. */
export interface SyntheticOptions extends MarsOptions {
  /**
   * Generator options (default `{}`: 40 identities, 4 cameras, 2 tracklets per identity and camera, 8 frames,
   * 128×64). The set is generated when `root` holds none, and regenerated when its `synthetic.json` comes from
   * another generator version or other options (only `bbox_train/`, `bbox_test/`, `info/` and the manifest are
   * replaced; a MARS tree without the manifest is never touched). `false`: load what is there, never generate.
   */
  readonly generate?: Omit<SyntheticDatasetOptions, 'root'> | false;
}

/**
 * Loads (generating it first if needed) the synthetic multi-view set of `generateSyntheticDataset`: a MARS tree,
 * read by the MARS loader with the same protocols.
 */
export async function loadSynthetic(options: SyntheticOptions): Promise<ReidDataset> {
  if (options.generate !== false) {
    const wanted = validateSyntheticOptions(options.generate ?? {});
    const state = await generatedState(options.root, wanted);
    if (state === 'stale') await Promise.all(['bbox_train', 'bbox_test', 'info', SYNTHETIC_MANIFEST].map((entry) => rm(join(options.root, entry), { recursive: true, force: true })));
    if (state === 'stale' || state === 'absent') await generateSyntheticDataset({ ...wanted, root: options.root });
  }
  return loadMars({ ...options, name: options.name ?? 'synthetic' });
}

/**
 * `'absent'`: nothing there; `'foreign'`: a MARS tree without our manifest (never touched); `'stale'`: our manifest
 * with another generator version or options; `'current'`.
 */
async function generatedState(root: string, wanted: object): Promise<'absent' | 'foreign' | 'stale' | 'current'> {
  const manifest = join(root, SYNTHETIC_MANIFEST);
  if (!(await pathExists(manifest))) {
    const anything = await Promise.all(['bbox_train', 'bbox_test', 'info'].map((entry) => pathExists(join(root, entry))));
    return anything.some(Boolean) ? 'foreign' : 'absent';
  }
  try {
    const recorded = JSON.parse(await readFile(manifest, 'utf8')) as { generator?: string; options?: object };
    const same = recorded.generator === SYNTHETIC_GENERATOR && JSON.stringify(recorded.options) === JSON.stringify(wanted);
    return same && (await pathExists(join(root, 'info', 'tracks_test_info.mat'))) ? 'current' : 'stale';
  } catch {
    return 'stale';
  }
}
