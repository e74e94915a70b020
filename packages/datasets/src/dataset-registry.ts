import { createRegistry, InvalidOptionError } from '@vkd/core';
import { loadAtrw, type AtrwOptions } from './atrw';
import {
  EVALUATION_PROTOCOLS,
  type AuthorsNetwork,
  type AuthorsTeacherSettings,
  type DatasetEntry,
} from './dataset-entry';
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

const range = (start: number, stop: number, step: number): number[] => {
  const values: number[] = [];
  for (let value = start; value < stop; value += step) values.push(value);
  return values;
};

/**
 * Person video sets (MARS, Duke; also the default of the sets the authors did not run): 300 epochs, decay at 100 and
 * 200, ResNet-18 every 50 from 50 (`commands.txt`, `vkd-method.md` §3.2–3.3); P, K, N are the trainer's (8, 4, 8).
 */
function personTeacher(backbone: string): AuthorsTeacherSettings {
  const first = backbone === 'resnet18' ? 50 : 100;
  return { epochs: 300, milestones: range(first, 300, first) };
}

/** VeRi-776: the teacher trains on single images (N=1), P=18, decay at 200 and 250 (`vkd-method.md` §3.2, §4.6). */
function veriTeacher(): AuthorsTeacherSettings {
  return { epochs: 300, milestones: range(200, 300, 50), identitiesPerBatch: 18, framesPerTracklet: 1 };
}

const network = (backbone: string, attention: 'none' | 'bam' = 'none'): AuthorsNetwork => ({
  name: `${backbone}${attention === 'bam' ? 'bam' : ''}`,
  backbone,
  attention,
});
const RESNETS = [
  network('resnet18'),
  network('resnet34'),
  network('resnet50'),
  network('resnet101'),
  network('resnet50', 'bam'),
];
/** Every network `commands.txt` runs on MARS, Duke and VeRi: the ResNets, DenseNet-121 and MobileNet-V2. */
const AUTHORS_NETWORKS = [...RESNETS, network('densenet121'), network('mobilenet')];

const BUILT_IN: readonly DatasetEntry[] = [
  {
    name: 'mars',
    description: 'MARS video person Re-ID (bbox_train/, bbox_test/, info/)',
    load: loadMars as DatasetLoader,
    protocols: ['i2v', 'v2v'],
    teacherDefaults: personTeacher,
    authors: { presetPrefix: 'mars', imageSize: [256, 128], testFrames: 8, networks: AUTHORS_NETWORKS },
  },
  {
    name: 'duke-video',
    description: 'DukeMTMC-VideoReID (train/, query/, gallery/)',
    load: loadDukeVideo as DatasetLoader,
    protocols: ['i2v', 'v2v'],
    teacherDefaults: personTeacher,
    groupings: ['folder', 'vkd'],
    // The authors merge consecutive sorted files of one (identity, camera) into a tracklet (`vkd-method.md` §6.2).
    authors: {
      presetPrefix: 'duke',
      imageSize: [256, 128],
      testFrames: 8,
      networks: AUTHORS_NETWORKS,
      presetValues: { trackletGrouping: 'vkd' },
    },
  },
  {
    name: 'veri-776',
    description: 'VeRi-776 vehicles (image_train/, image_query/, image_test/, track files)',
    load: loadVeri776 as DatasetLoader,
    protocols: EVALUATION_PROTOCOLS,
    videoQueriesFromGallery: true,
    teacherDefaults: veriTeacher,
    erasingAspect: [0.7, 1.4],
    // commands.txt trains a VeRi ResNet-18 teacher (and distils no VeRi ResNet-18 student); veri-resnet18 has both.
    authors: { presetPrefix: 'veri', imageSize: [224, 224], testFrames: 8, networks: AUTHORS_NETWORKS },
  },
  {
    name: 'atrw',
    description: 'ATRW Amur tigers (image re-identification, I2I)',
    load: loadAtrw as DatasetLoader,
    protocols: ['i2i'],
    teacherDefaults: personTeacher,
    // The authors' fallback for datasets other than MARS/Duke/VeRi (`data/misc.py`), hinting at their tiger runs.
    erasingAspect: [0.7, 1.4],
    resize: 'letterbox',
  },
  {
    name: 'synthetic',
    description: 'synthetic multi-view set in the MARS layout (vkd demo, vkd datasets generate)',
    load: loadSynthetic as DatasetLoader,
    protocols: ['i2v', 'v2v'],
    loadExisting: { generate: false } as Partial<SyntheticOptions>,
    teacherDefaults: personTeacher,
  },
  {
    name: 'folder',
    description: 'any folder: <root>/<identity>/<camera or tracklet>/*.jpg',
    load: loadFolder as DatasetLoader,
    protocols: ['i2v', 'v2v'],
    teacherDefaults: personTeacher,
  },
];

const registry = createRegistry<DatasetEntry>(
  'dataset',
  Object.fromEntries(BUILT_IN.map((entry) => [entry.name, entry])),
);

/**
 * Loads a dataset by name: `'mars' | 'duke-video' | 'veri-776' | 'atrw' | 'synthetic' | 'folder'` or a name added
 * with {@link registerDataset}.
 * @throws UnknownKeyError listing the valid names; InvalidOptionError without `options.root`;
 *         DatasetNotFoundError / DatasetFormatError from the loader.
 */
export function loadDataset<Name extends DatasetName>(
  name: Name,
  options: DatasetOptionsByName[Name],
): Promise<ReidDataset>;
export function loadDataset(name: string, options: LoadDatasetOptions): Promise<ReidDataset>;
export async function loadDataset(name: string, options: LoadDatasetOptions): Promise<ReidDataset> {
  const entry = registry.get(name);
  if (typeof options?.root !== 'string' || options.root.length === 0) {
    throw new InvalidOptionError(
      `loadDataset("${name}").root`,
      options?.root,
      'Pass the dataset root folder, e.g. { root: "./data/mars" }.',
    );
  }
  return entry.load(options);
}

/**
 * Adds a dataset to the table: `loadDataset`, the trainer's evaluation and stage defaults, and the `vkd` CLI
 * (`--dataset`, help, presets) use it from then on. `registerDataset(name, loader)` is short for an entry with the
 * default protocols (`['i2v', 'v2v']`).
 * @throws DuplicateKeyError when the name is taken; InvalidOptionError for an empty or unknown protocol list.
 */
export function registerDataset<Options extends LoadDatasetOptions>(entry: DatasetEntry<Options>): void;
export function registerDataset<Options extends LoadDatasetOptions>(name: string, loader: DatasetLoader<Options>): void;
export function registerDataset<Options extends LoadDatasetOptions>(
  entryOrName: DatasetEntry<Options> | string,
  loader?: DatasetLoader<Options>,
): void {
  const entry: DatasetEntry<Options> =
    typeof entryOrName === 'string'
      ? {
          name: entryOrName,
          description: 'registered dataset',
          load: loader as DatasetLoader<Options>,
          protocols: ['i2v', 'v2v'],
        }
      : entryOrName;
  if (typeof entry.load !== 'function') {
    throw new InvalidOptionError(
      `registerDataset("${entry.name}").load`,
      entry.load,
      'Pass the loader function, (options) => Promise<ReidDataset>.',
    );
  }
  const unknown = entry.protocols.find((protocol) => !EVALUATION_PROTOCOLS.includes(protocol));
  if (entry.protocols.length === 0 || unknown !== undefined) {
    throw new InvalidOptionError(
      `registerDataset("${entry.name}").protocols`,
      unknown ?? entry.protocols,
      `Use a non-empty list of ${EVALUATION_PROTOCOLS.join(', ')}.`,
    );
  }
  registry.register(entry.name, entry as unknown as DatasetEntry);
}

/** Registered dataset names (built-ins first). */
export function datasetNames(): string[] {
  return registry.keys();
}

/** The table row of a dataset. @throws UnknownKeyError listing the registered names. */
export function datasetEntry(name: string): DatasetEntry {
  return registry.get(name);
}

/** The table row of a dataset, or undefined for a name that is not registered (a dataset built by hand). */
export function findDatasetEntry(name: string): DatasetEntry | undefined {
  return registry.has(name) ? registry.get(name) : undefined;
}

/** Every registered entry, built-ins first (e.g. to build presets or help). */
export function datasetEntries(): DatasetEntry[] {
  return registry.keys().map((name) => registry.get(name));
}
