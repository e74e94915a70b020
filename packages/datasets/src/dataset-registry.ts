import { createRegistry, InvalidOptionError } from '@vkd/core';
import { loadAtrw, type AtrwOptions } from './atrw';
import { loadDukeVideo, type DukeVideoOptions } from './duke-video';
import { loadFolder, type FolderOptions } from './folder';
import { loadMars, type MarsOptions } from './mars';
import { loadSynthetic, type SyntheticOptions } from './synthetic';
import type { DatasetLoader, LoadDatasetOptions, ReidDataset } from './types';
import { loadVeri776, type Veri776Options } from './veri-776';

/** Built-in loaders and their option types. */
export interface DatasetOptionsByName {
  mars: MarsOptions;
  'duke-video': DukeVideoOptions;
  'veri-776': Veri776Options;
  atrw: AtrwOptions;
  synthetic: SyntheticOptions;
  folder: FolderOptions;
}

/** Names of the built-in datasets. */
export type DatasetName = keyof DatasetOptionsByName;

const registry = createRegistry<DatasetLoader>('dataset', {
  mars: loadMars as DatasetLoader,
  'duke-video': loadDukeVideo as DatasetLoader,
  'veri-776': loadVeri776 as DatasetLoader,
  atrw: loadAtrw as DatasetLoader,
  synthetic: loadSynthetic as DatasetLoader,
  folder: loadFolder as DatasetLoader,
});

/**
 * Loads a dataset by name: `'mars' | 'duke-video' | 'veri-776' | 'atrw' | 'synthetic' | 'folder'` or a name added
 * with {@link registerDataset}.
 * @throws UnknownKeyError listing the valid names; InvalidOptionError without `options.root`;
 *         DatasetNotFoundError / DatasetFormatError from the loader.
 */
export function loadDataset<Name extends DatasetName>(name: Name, options: DatasetOptionsByName[Name]): Promise<ReidDataset>;
export function loadDataset(name: string, options: LoadDatasetOptions): Promise<ReidDataset>;
export async function loadDataset(name: string, options: LoadDatasetOptions): Promise<ReidDataset> {
  const loader = registry.get(name);
  if (typeof options?.root !== 'string' || options.root.length === 0) {
    throw new InvalidOptionError(`loadDataset("${name}").root`, options?.root, 'Pass the dataset root folder, e.g. { root: "./data/mars" }.');
  }
  return loader(options);
}

/** Adds a third-party loader. @throws DuplicateKeyError when the name is taken. */
export function registerDataset<Options extends LoadDatasetOptions>(name: string, loader: DatasetLoader<Options>): void {
  registry.register(name, loader as DatasetLoader);
}

/** Registered dataset names (built-ins first). */
export function datasetNames(): string[] {
  return registry.keys();
}
