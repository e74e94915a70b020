import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { type VkdResult, vkd } from './vkd';

/** The size of a synthetic set, as `vkd datasets generate` takes it. */
export interface SyntheticSetSize {
  identities: number;
  cameras: number;
  framesPerTracklet: number;
  height: number;
  width: number;
}

/**
 * Writes a synthetic set (MARS layout) to `out` with `vkd datasets generate --quiet` and the flags of `size`; `extra`
 * are more flags (`--seed`). The caller checks the exit code.
 */
export function generateSyntheticSet(
  out: string,
  size: SyntheticSetSize,
  extra: readonly string[] = [],
): Promise<VkdResult> {
  const flags: [string, number][] = [
    ['--identities', size.identities],
    ['--cameras', size.cameras],
    ['--frames-per-tracklet', size.framesPerTracklet],
    ['--height', size.height],
    ['--width', size.width],
  ];
  const sized = flags.flatMap(([flag, value]) => [flag, String(value)]);
  return vkd(['datasets', 'generate', '--out', out, ...sized, '--quiet', ...extra]);
}

/**
 * A fresh temporary folder `directory` (its name starting with `prefix`) holding a synthetic set of `size` at
 * `root` = `directory/subfolder`; generating it must succeed.
 */
export async function syntheticSetInTempFolder(
  prefix: string,
  size: SyntheticSetSize,
  subfolder = 'data',
): Promise<{ directory: string; root: string }> {
  const directory = await mkdtemp(join(tmpdir(), prefix));
  const root = join(directory, subfolder);
  const generated = await generateSyntheticSet(root, size);
  expect(generated.code, generated.stderr).toBe(0);
  return { directory, root };
}
