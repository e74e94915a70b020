import { loadDataset, type ReidDataset } from '@vkd/datasets';

/**
 * Loads a dataset for training, evaluation or statistics. A `synthetic` root is loaded as it is (`generate: false`):
 * without it the loader would regenerate a set whose manifest differs from its default options, replacing the
 * frames a model was trained on. Generation happens only in `vkd demo` and `vkd datasets generate`.
 */
export function loadRunDataset(name: string, root: string): Promise<ReidDataset> {
  return name === 'synthetic' ? loadDataset('synthetic', { root, generate: false }) : loadDataset(name, { root });
}
