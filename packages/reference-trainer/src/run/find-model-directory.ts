import { access, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidOptionError } from '@vkd/core';
import { MODEL_MANIFEST } from './model-input';
import { STAGE_FILES } from './train-stage';

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

/**
 * Finds the model of a model directory (`saveReidModel`) or of a run directory holding `model/` (what
 * `vkd train-teacher --out` writes), without loading it (`loadReidModel` of the result loads it once the backend is
 * active): commands call this before selecting the backend, so that a mistyped path fails at once.
 * @param flag the option naming the directory, quoted in errors (e.g. `--teacher`).
 * @returns the model directory itself.
 * @throws InvalidOptionError naming `flag` when the directory does not exist or holds no model.
 */
export async function findModelDirectory(directory: string, flag: string): Promise<string> {
  const nested = join(directory, STAGE_FILES.model);
  const target = (await exists(join(nested, MODEL_MANIFEST))) ? nested : directory;
  const info = await stat(target).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new InvalidOptionError(
      flag,
      directory,
      `${info ? 'This is a file, not a directory' : 'No such directory'}; give a run directory (with model/) or a model directory.`,
    );
  }
  if (!(await exists(join(target, MODEL_MANIFEST)))) {
    throw new InvalidOptionError(
      flag,
      directory,
      `No model there (neither ${MODEL_MANIFEST} nor ${STAGE_FILES.model}/${MODEL_MANIFEST}); give a run directory (with model/) or a model directory.`,
    );
  }
  return target;
}
