import * as tf from '@tensorflow/tfjs-core';
import { CheckpointError, importNodeBuiltin, parseStrictJson } from '@vkd/core';
import { validateReidModelOptions, type ReidModelConfig } from '../model-options';
import { buildReidModel, reidModelSpecs, type ReidModel } from '../reid-model';
import { readFileBytes, writeFileAtomic } from './read-bytes';
import { modelMetadata, setModelMetadata, validateModelMetadata, type ModelMetadata } from './model-metadata';
import { entryToFloat32, parseSafetensors, writeSafetensors } from './safetensors';

/** Identifies files written by {@link saveReidModel}. */
export const REID_MODEL_FORMAT = 'vkd-ts-reid-model';
const FORMAT_VERSION = 1;
/** The manifest (format, version, model config) of a model directory written by `saveReidModel`. */
export const MODEL_CONFIG_FILE = 'model.json';
/** The weights file of a model directory written by `saveReidModel`. */
export const MODEL_WEIGHTS_FILE = 'weights.safetensors';
/**
 * Where a training checkpoint of `@vkd/trainer` keeps its model: `<checkpoint>/model/` holds exactly the two files
 * {@link saveReidModel} writes, so {@link loadReidModel} reads a checkpoint directory too.
 */
export const CHECKPOINT_MODEL_DIRECTORY = 'model';

/** Contents of `model.json`. */
export interface ReidModelManifest {
  format: typeof REID_MODEL_FORMAT;
  version: number;
  config: ReidModelConfig;
  /** Layout of the weights file: VKD state_dict keys, conv filters HWIO, linears [in, out]. */
  layout: 'hwio';
  /** Input size, normalisation and training record (absent in model directories written before it existed). */
  metadata?: ModelMetadata;
}

/**
 * Serialises a model to a JSON manifest and safetensors bytes (all variables incl. BN moving statistics, float32
 * bit-exact). Use it directly in browsers; {@link saveReidModel} writes the two files.
 * @param options.metadata input size, normalisation and training record for `model.json` (default: what
 * `setModelMetadata` attached to the model, if anything).
 */
export async function serializeReidModel(
  model: ReidModel,
  options: { metadata?: ModelMetadata } = {},
): Promise<{ manifest: ReidModelManifest; weights: Uint8Array }> {
  const metadata = options.metadata ?? modelMetadata(model);
  const manifest: ReidModelManifest = {
    format: REID_MODEL_FORMAT,
    version: FORMAT_VERSION,
    config: { ...model.config },
    layout: 'hwio',
    ...(metadata ? { metadata: validateModelMetadata(metadata, '<serializeReidModel>') } : {}),
  };
  const tensors = model.getWeights();
  try {
    return {
      manifest,
      weights: await writeSafetensors(tensors, { format: REID_MODEL_FORMAT, config: JSON.stringify(manifest.config) }),
    };
  } finally {
    tf.dispose(Object.values(tensors));
  }
}

/**
 * Rebuilds a model from {@link serializeReidModel} output. Every weight must be present with its exact shape. The
 * manifest's `metadata`, when present, is attached to the model (`modelMetadata(model)`).
 * @param source names the origin in error messages.
 * @throws CheckpointError for a foreign manifest, an invalid config, or missing / extra / misshapen weights.
 */
export function deserializeReidModel(manifest: unknown, weights: Uint8Array, source = '<memory>'): ReidModel {
  const candidate = manifest as Partial<ReidModelManifest> | null;
  if (candidate?.format !== REID_MODEL_FORMAT || candidate.version !== FORMAT_VERSION || candidate.layout !== 'hwio') {
    throw new CheckpointError(
      source,
      `not a ${REID_MODEL_FORMAT} v${FORMAT_VERSION} manifest (format ${JSON.stringify(candidate?.format)}, version ${JSON.stringify(candidate?.version)}). For PyTorch weights use importTorchWeights.`,
    );
  }
  let config: ReidModelConfig;
  try {
    config = validateReidModelOptions(candidate.config as ReidModelConfig);
  } catch (error) {
    throw new CheckpointError(source, `invalid model config: ${(error as Error).message}`, { cause: error });
  }
  let entries: ReturnType<typeof parseSafetensors>['entries'];
  try {
    entries = parseSafetensors(weights, `${source}/${MODEL_WEIGHTS_FILE}`).entries;
  } catch (error) {
    throw new CheckpointError(source, (error as Error).message, { cause: error });
  }
  const values = new Map<string, tf.Tensor>();
  try {
    const specs = reidModelSpecs(config);
    const missing = specs.filter((spec) => !(spec.name in entries)).map((spec) => spec.name);
    const known = new Set(specs.map((spec) => spec.name));
    const extra = Object.keys(entries).filter((name) => !known.has(name));
    if (missing.length > 0 || extra.length > 0) {
      throw new CheckpointError(
        source,
        `weights do not match the config: ${missing.length} missing (${missing.slice(0, 3).join(', ')}), ${extra.length} unexpected (${extra.slice(0, 3).join(', ')}).`,
      );
    }
    for (const spec of specs) {
      const entry = entries[spec.name]!;
      if (entry.dtype !== 'F32' || !tf.util.arraysEqual(entry.shape, spec.shape)) {
        throw new CheckpointError(
          source,
          `"${spec.name}" is ${entry.dtype} ${JSON.stringify(entry.shape)}, expected F32 ${JSON.stringify(spec.shape)}.`,
        );
      }
      values.set(spec.name, tf.tensor(entryToFloat32(entry), spec.shape, 'float32'));
    }
    const metadata = candidate.metadata === undefined ? undefined : validateModelMetadata(candidate.metadata, source);
    const model = buildReidModel(config, values);
    if (metadata) setModelMetadata(model, metadata);
    return model;
  } finally {
    tf.dispose([...values.values()]);
  }
}

/**
 * Saves a model as `<directory>/model.json` + `<directory>/weights.safetensors` (directory created if needed;
 * files written atomically). `model.json` carries the metadata (`options.metadata`, or what `setModelMetadata`
 * attached). Node only.
 * @throws CheckpointError when the files cannot be written.
 */
export async function saveReidModel(
  model: ReidModel,
  directory: string,
  options: { metadata?: ModelMetadata } = {},
): Promise<void> {
  const { mkdir } = await importNodeBuiltin<typeof import('node:fs/promises')>('node:fs/promises', 'saveReidModel');
  const { join } = await importNodeBuiltin<typeof import('node:path')>('node:path', 'saveReidModel');
  try {
    await mkdir(directory, { recursive: true });
  } catch (error) {
    throw new CheckpointError(directory, `cannot create the directory (${(error as Error).message}).`, {
      cause: error,
    });
  }
  const { manifest, weights } = await serializeReidModel(model, options);
  await writeFileAtomic(join(directory, MODEL_WEIGHTS_FILE), weights);
  await writeFileAtomic(join(directory, MODEL_CONFIG_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
}

/**
 * Loads a model saved by {@link saveReidModel}, or the model of a training checkpoint of `@vkd/trainer` (whose
 * `model/` sub-directory holds the same two files, {@link CHECKPOINT_MODEL_DIRECTORY}); the weights are
 * bit-identical to the saved ones. Node only.
 * @param directory a model directory (`model.json` + `weights.safetensors`) or a checkpoint directory.
 * @throws CheckpointError naming the file for missing files, bad JSON, or weights that do not match the config.
 */
export async function loadReidModel(directory: string): Promise<ReidModel> {
  const { join } = await importNodeBuiltin<typeof import('node:path')>('node:path', 'loadReidModel');
  const { access } = await importNodeBuiltin<typeof import('node:fs/promises')>('node:fs/promises', 'loadReidModel');
  const exists = (file: string) =>
    access(file).then(
      () => true,
      () => false,
    );
  const embedded = join(directory, CHECKPOINT_MODEL_DIRECTORY);
  if (!(await exists(join(directory, MODEL_CONFIG_FILE))) && (await exists(join(embedded, MODEL_CONFIG_FILE)))) {
    return loadReidModel(embedded);
  }
  const manifestPath = join(directory, MODEL_CONFIG_FILE);
  const text = new TextDecoder().decode(await readFileBytes(manifestPath));
  let manifest: unknown;
  try {
    manifest = parseStrictJson(text);
  } catch (error) {
    throw new CheckpointError(manifestPath, `invalid JSON (${(error as Error).message}).`, { cause: error });
  }
  return deserializeReidModel(manifest, await readFileBytes(join(directory, MODEL_WEIGHTS_FILE)), directory);
}
