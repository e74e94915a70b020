import { scaledDifference } from '@vkd/testing';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { entryToFloat32, parseSafetensors, type ReidModelOptions, type SafetensorsEntry } from '@vkd/models';

/** Folder of the PyTorch fixtures written by tools/fixtures/models/make_fixtures.py. */
export const FIXTURE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../tools/fixtures/models');

export interface TorchFixture {
  name: string;
  options: ReidModelOptions;
  weightsPath: string;
  entries: Record<string, SafetensorsEntry>;
  values(key: string): Float32Array;
  shape(key: string): number[];
}

/** Loads `<variant>/config.json` and `<variant>/expected.safetensors`. */
export async function loadTorchFixture(name: string): Promise<TorchFixture> {
  const folder = join(FIXTURE_ROOT, name);
  const config = JSON.parse(await readFile(join(folder, 'config.json'), 'utf8')) as ReidModelOptions & {
    weights: string;
  };
  const { entries } = parseSafetensors(new Uint8Array(await readFile(join(folder, 'expected.safetensors'))), name);
  const entry = (key: string) => {
    const found = entries[key];
    if (!found) throw new Error(`fixture ${name} has no ${key}`);
    return found;
  };
  const { weights, ...options } = config;
  return {
    name,
    options,
    entries,
    weightsPath: join(folder, weights),
    values: (key) => entryToFloat32(entry(key)),
    shape: (key) => entry(key).shape,
  };
}

export { scaledDifference };

/** Folder of the torch.save fixtures written by tools/fixtures/torch-files/make_torch_files.py. */
export const TORCH_FILES_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../tools/fixtures/torch-files');
