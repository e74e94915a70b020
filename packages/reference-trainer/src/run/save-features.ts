import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeNpy } from '@vkd/metrics';
import type { ExtractedFeatures } from '@vkd/trainer';
import type { ProtocolFeatures } from './evaluation-features';

/** What `--save-features DIR` wrote. */
export interface SavedFeatures {
  /** Absolute paths of every file written. */
  readonly files: readonly string[];
  /** A `vkd-metrics` command line per protocol that recomputes its metrics from the files. */
  readonly commands: Readonly<Record<string, string>>;
}

/** `identity,camera,tracklet`: the label CSV `vkd-metrics --query-labels` reads (other columns are ignored). */
function labelCsv(features: ExtractedFeatures): string {
  const lines = ['identity,camera,tracklet'];
  for (let row = 0; row < features.count; row++)
    lines.push(`${features.identities[row]},${features.cameras[row]},${features.trackletIndices[row]}`);
  return `${lines.join('\n')}\n`;
}

/**
 * Writes the features of an evaluation in the formats `vkd-metrics` reads: `<name>.npy` (float32 [n, D], C order)
 * and `<name>-labels.csv` (`identity,camera,tracklet`; cameras 0-based as the loader's, tracklet = index in the
 * dataset's query or gallery list) for `query-images` (I2V/I2I queries), `query-videos` (V2V/V2I), `gallery` (gallery
 * tracklets) and `gallery-images` (gallery frames, VeRi); plus `features.json` naming the pair of each protocol and
 * the `vkd-metrics` command that reproduces it. Only these files are written (others in DIR are left alone).
 */
export async function saveFeatures(directory: string, pairs: readonly ProtocolFeatures[]): Promise<SavedFeatures> {
  await mkdir(directory, { recursive: true });
  const files: string[] = [];
  const written = new Set<string>();
  const save = async (name: string, features: ExtractedFeatures) => {
    if (written.has(name)) return;
    written.add(name);
    const npy = join(directory, `${name}.npy`);
    const csv = join(directory, `${name}-labels.csv`);
    await writeFile(npy, writeNpy(features.features, [features.count, features.dim]));
    await writeFile(csv, labelCsv(features));
    files.push(npy, csv);
  };
  const commands: Record<string, string> = {};
  const protocols: Record<string, unknown> = {};
  for (const pair of pairs) {
    await save(pair.queryName, pair.query);
    await save(pair.galleryName, pair.gallery);
    const at = (name: string) => join(directory, name);
    commands[pair.protocol] =
      `vkd-metrics --query ${at(`${pair.queryName}.npy`)} --gallery ${at(`${pair.galleryName}.npy`)} ` +
      `--query-labels ${at(`${pair.queryName}-labels.csv`)} --gallery-labels ${at(`${pair.galleryName}-labels.csv`)}`;
    protocols[pair.protocol] = {
      query: `${pair.queryName}.npy`,
      gallery: `${pair.galleryName}.npy`,
      queryLabels: `${pair.queryName}-labels.csv`,
      galleryLabels: `${pair.galleryName}-labels.csv`,
      command: commands[pair.protocol],
    };
  }
  const index = join(directory, 'features.json');
  const description = {
    features: 'pre-BNNeck set embeddings (mean over chunk-first frames), float32 [n, D], compare with cosine distance',
    dim: pairs[0]?.query.dim ?? 0,
    protocols,
    note: 'vkd-metrics applies the same-identity-same-camera junk rule; dataset-specific junk (VeRi jk_index, ATRW near-duplicates) is not in these files.',
  };
  await writeFile(index, `${JSON.stringify(description, null, 2)}\n`);
  files.push(index);
  return { files, commands };
}
