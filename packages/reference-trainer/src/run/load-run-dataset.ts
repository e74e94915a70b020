import { datasetEntry, loadDataset, type LoadDatasetOptions, type ReidDataset } from '@vkd/datasets';

/** How `vkd` loads a dataset beyond its name and root. */
export interface RunDatasetOptions {
  /**
   * `--skip-bad-frames`: decode every frame at load time and leave out those that cannot be decoded
   * (`validateFrames: true, onBadFrame: 'skip'`; counted in the statistics). Default false.
   */
  readonly skipBadFrames?: boolean;
}

/**
 * Loads a dataset for training, evaluation or statistics, with the table entry's `loadExisting` options
 * (`synthetic`: `generate: false`, so that a root is loaded as it is and never regenerated under a model trained on
 * it; generation happens only in `vkd demo` and `vkd datasets generate`).
 * Commands call it before selecting the backend: it checks `--root` (and needs no backend).
 */
export function loadRunDataset(name: string, root: string, options: RunDatasetOptions = {}): Promise<ReidDataset> {
  const frames: Partial<LoadDatasetOptions> = options.skipBadFrames ? { validateFrames: true, onBadFrame: 'skip' } : {};
  return loadDataset(name, { ...datasetEntry(name).loadExisting, root, ...frames });
}
