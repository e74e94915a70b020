import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidOptionError } from '@vkd/core';
import { loadReidModel, type ReidModel } from '@vkd/models';
import { STAGE_FILES } from './train-stage';

/**
 * Loads a model from a model directory (`saveReidModel`) or from a run directory holding `model/`
 * (what `vkd train-teacher --out` writes).
 * @param flag the option naming the directory, quoted in errors (e.g. `--teacher`).
 * @throws InvalidOptionError naming `flag` when neither exists; errors of `loadReidModel` for a damaged model.
 */
export async function loadModelDirectory(directory: string, flag: string): Promise<ReidModel> {
  const nested = join(directory, STAGE_FILES.model);
  const target = await access(nested).then(() => nested, () => directory);
  try {
    await access(target);
  } catch (error) {
    throw new InvalidOptionError(flag, directory, 'No such directory; give a run directory (with model/) or a model directory.', { cause: error });
  }
  return loadReidModel(target);
}
