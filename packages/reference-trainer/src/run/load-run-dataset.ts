import { InvalidOptionError } from '@vkd/core';
import { datasetEntry, loadDataset, type LoadDatasetOptions, type ReidDataset } from '@vkd/datasets';

/** How `vkd` loads a dataset beyond its name and root. */
export interface RunDatasetOptions {
  /**
   * `--skip-bad-frames`: decode every frame at load time and leave out those that cannot be decoded
   * (`validateFrames: true, onBadFrame: 'skip'`; counted in the statistics). Default false.
   */
  readonly skipBadFrames?: boolean;
  /** `--tracklet-grouping`: passed as the loader's `grouping` when the dataset's table entry lists it. */
  readonly trackletGrouping?: string;
}

/**
 * Loads a dataset for training, evaluation or statistics, with the table entry's `loadExisting` options
 * (`synthetic`: `generate: false`, so that a root is loaded as it is and never regenerated under a model trained on
 * it; generation happens only in `vkd demo` and `vkd datasets generate`).
 * Commands call it before selecting the backend: it checks `--root` (and needs no backend).
 */
export function loadRunDataset(name: string, root: string, options: RunDatasetOptions = {}): Promise<ReidDataset> {
  const frames: Partial<LoadDatasetOptions> = options.skipBadFrames ? { validateFrames: true, onBadFrame: 'skip' } : {};
  const entry = datasetEntry(name);
  const grouping = options.trackletGrouping;
  if (grouping !== undefined && !entry.groupings?.includes(grouping)) {
    const reason = entry.groupings
      ? `${name} groups tracklets by one of: ${entry.groupings.join(', ')}.`
      : `${name} offers no choice of tracklet grouping; leave --tracklet-grouping out.`;
    return Promise.reject(new InvalidOptionError('--tracklet-grouping', grouping, reason));
  }
  return loadDataset(name, {
    ...entry.loadExisting,
    root,
    ...frames,
    ...(grouping !== undefined ? { grouping } : {}),
  } as LoadDatasetOptions);
}
