import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CheckpointError, parseStrictJson } from '@vkd/core';
import { IMAGENET_MEAN, IMAGENET_STD } from '@vkd/datasets';
import { validateModelMetadata, type ModelMetadata, type ModelTrainingRecord } from '@vkd/models';
import type { DataSettings } from '../config/stage-settings';
import type { OptionValues } from '../options/option-spec';
import type { RunLog } from './run-log';

/** The manifest `saveReidModel` writes into every model directory (`MODEL_CONFIG_FILE` of `@vkd/models`). */
export const MODEL_MANIFEST = 'model.json';

/**
 * Reads the metadata (input size, normalisation, training record) of a model directory without loading the weights,
 * so commands can settle their input size before the backend is selected.
 * @returns undefined for a model saved before model.json recorded it.
 * @throws CheckpointError naming model.json when it is not JSON or its metadata is damaged.
 */
export async function readModelMetadata(modelDirectory: string): Promise<ModelMetadata | undefined> {
  const path = join(modelDirectory, MODEL_MANIFEST);
  let manifest: { metadata?: unknown };
  try {
    manifest = parseStrictJson(await readFile(path, 'utf8')) as { metadata?: unknown };
  } catch (error) {
    throw new CheckpointError(path, `cannot read the model manifest (${(error as Error).message}).`, { cause: error });
  }
  return manifest.metadata === undefined ? undefined : validateModelMetadata(manifest.metadata, path);
}

/** The metadata a training command records for the model it trains (stored in model.json by `saveReidModel`). */
export function trainedModelMetadata(data: DataSettings, training: ModelTrainingRecord): ModelMetadata {
  return {
    input: {
      height: data.height,
      width: data.width,
      normalization: { mean: [...IMAGENET_MEAN], std: [...IMAGENET_STD] },
    },
    training: { ...training, testFrames: data.testFrames },
  };
}

/**
 * The input size a command that takes a model runs at: `--height`/`--width` when the user set them (flag or config
 * file; a difference from the model's is warned about), otherwise the model's own (model.json), otherwise the
 * preset's or the default (said, since the model does not record its size).
 * @param explicit keys the user set (flags, config file).
 * @param flag the option that named the model, e.g. `--teacher`.
 * @returns `data` with the chosen height and width.
 */
export function modelInputSize(
  data: DataSettings,
  options: OptionValues,
  explicit: ReadonlySet<string> | undefined,
  metadata: ModelMetadata | undefined,
  flag: string,
  log: RunLog,
): DataSettings {
  const given = explicit?.has('height') || explicit?.has('width');
  const size = (height: number, width: number) => `${height}×${width}`;
  if (!metadata) {
    if (!given) {
      log.info(
        `input size: ${size(data.height, data.width)} (the model given to ${flag} records no input size; pass --height/--width if it was trained at another)`,
      );
    }
    return data;
  }
  const { height, width } = metadata.input;
  if (given) {
    const chosen = {
      height: explicit?.has('height') ? (options.height as number) : height,
      width: explicit?.has('width') ? (options.width as number) : width,
    };
    if (chosen.height !== height || chosen.width !== width) {
      log.warn(
        `running at ${size(chosen.height, chosen.width)} as --height/--width say, but the model given to ${flag} was trained at ${size(height, width)} (its model.json)`,
      );
    }
    return { ...data, ...chosen };
  }
  const differs = data.height !== height || data.width !== width;
  log.info(
    `input size: ${size(height, width)} from the model given to ${flag} (model.json)${differs ? `, not the preset/default ${size(data.height, data.width)}` : ''}`,
  );
  return { ...data, height, width };
}
