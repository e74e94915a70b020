import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { CheckpointError, NonFiniteValueError, parseStrictJson, TrainingDivergedError } from '@vkd/core';
import {
  CHECKPOINT_MODEL_DIRECTORY,
  createReidModel,
  loadReidModel,
  MODEL_CONFIG_FILE,
  MODEL_WEIGHTS_FILE,
  readSafetensors,
  serializeReidModel,
  writeSafetensors,
  type ReidModel,
  type ReidModelOptions,
} from '@vkd/models';
import type { AdamWithL2Options } from './adam-with-l2';
import { writeDirectoryAtomically } from './checkpoint-files';
import { describeNonFinite, tensorHealth, validateCheckpointState } from './checkpoint-validation';
import type { EpochData } from './trainer';
import type { StepState, TrainableModel, TrainingStep } from './training-step';

/**
 * File names inside one checkpoint directory: the model directory `saveReidModel` of `@vkd/models` writes
 * (`model/model.json` + `model/weights.safetensors`, so `loadReidModel(checkpoint)` reads it), the Adam moments
 * (`optimizer.safetensors`: `m.<i>` / `v.<i>` by trainable-variable position) and the run state (`state.json`).
 */
export const CHECKPOINT_FILES = {
  modelConfig: `${CHECKPOINT_MODEL_DIRECTORY}/${MODEL_CONFIG_FILE}`,
  modelWeights: `${CHECKPOINT_MODEL_DIRECTORY}/${MODEL_WEIGHTS_FILE}`,
  optimizer: 'optimizer.safetensors',
  state: 'state.json',
} as const;

/** The single tensors file of version-1 checkpoints (model.* and optimizer.* tensors), still read. */
const VERSION_1_TENSORS = 'tensors.safetensors';

const FORMAT = 'vkd-trainer-checkpoint';
const VERSION = 2;

/** The JSON run state of a checkpoint (`state.json`); the model and the optimiser moments are beside it. */
export interface CheckpointState {
  format: typeof FORMAT;
  /** 2: model directory + `optimizer.safetensors`; 1 (read only): one `tensors.safetensors` and `modelConfig`. */
  version: 1 | 2;
  /** Next 0-based epoch to run (= epochs completed). */
  nextEpoch: number;
  globalStep: number;
  learningRate: number;
  optimizer: { iterations: number; options: Required<AdamWithL2Options> };
  /** `TrainingStep.kind`, e.g. `'teacher'` or `'distill'`. */
  stepKind: string;
  /** RNG state of the step (the student's M-of-N subset generator). */
  step: StepState;
  /** State of the epoch data (identity sampler), if it has one. */
  data?: unknown;
  metrics: Record<string, number>;
  /** Number of trainable variables (optimiser tensors are saved by position). */
  trainableVariables: number;
  savedAt: string;
}

/** A checkpoint read back: state plus tensors (caller disposes the tensors). */
export interface LoadedCheckpoint {
  path: string;
  state: CheckpointState;
  /** `model.<name>` weights (PyTorch-style names) and `optimizer.m.<i>` / `optimizer.v.<i>` moments. */
  tensors: Record<string, tf.Tensor>;
}

/** What {@link saveCheckpoint} needs from a run. */
export interface CheckpointSource<Batch> {
  step: TrainingStep<Batch>;
  data?: EpochData<Batch>;
  nextEpoch: number;
  globalStep: number;
  metrics?: Record<string, number>;
  /**
   * Largest |weight| accepted (default {@link DEFAULT_WEIGHT_BOUND}): a model weight beyond it means the run
   * diverged, and no checkpoint is written.
   */
  weightBound?: number;
}

/** Default of `CheckpointSource.weightBound`: far beyond any trained ReID weight or BN statistic. */
export const DEFAULT_WEIGHT_BOUND = 1e6;

/**
 * Writes a full training checkpoint to directory `target` atomically (temp directory + rename): model weights
 * (incl. BN statistics), Adam moments and step count, learning rate, the step's and the sampler's RNG states, epoch.
 * @throws NonFiniteValueError when a weight or an optimiser moment is NaN/Inf, TrainingDivergedError when a weight
 * exceeds `weightBound`; nothing is written then.
 */
export async function saveCheckpoint<Batch>(target: string, source: CheckpointSource<Batch>): Promise<CheckpointState> {
  const { step } = source;
  const variables = step.model.trainableVariables();
  const weights = step.model.getWeights();
  const optimizerState = step.optimizer.exportState(variables);
  const tensors: Record<string, tf.Tensor> = {};
  for (const [name, tensor] of Object.entries(weights)) tensors[`model.${name}`] = tensor;
  for (const [name, tensor] of Object.entries(optimizerState.tensors)) tensors[`optimizer.${name}`] = tensor;
  let model: Awaited<ReturnType<typeof serializeReidModel>>;
  let optimizerBytes: Uint8Array;
  try {
    await checkWritable(target, tensors, source.weightBound ?? DEFAULT_WEIGHT_BOUND);
    model = await serializeReidModel(step.model);
    optimizerBytes = await writeSafetensors(optimizerState.tensors);
  } finally {
    // getWeights may hand out the variables themselves: dispose only copies.
    tf.dispose(Object.values(weights).filter((tensor) => !(tensor instanceof tf.Variable)));
    tf.dispose(Object.values(optimizerState.tensors));
  }
  const state: CheckpointState = {
    format: FORMAT,
    version: VERSION,
    nextEpoch: source.nextEpoch,
    globalStep: source.globalStep,
    learningRate: step.optimizer.learningRate,
    optimizer: { iterations: optimizerState.iterations, options: { ...step.optimizer.options } },
    stepKind: step.kind,
    step: step.getState(),
    ...(source.data?.getState ? { data: source.data.getState() } : {}),
    metrics: { ...(source.metrics ?? {}) },
    trainableVariables: variables.length,
    savedAt: new Date().toISOString(),
  };
  await writeDirectoryAtomically(target, {
    [CHECKPOINT_FILES.modelWeights]: model.weights,
    [CHECKPOINT_FILES.modelConfig]: `${JSON.stringify(model.manifest, null, 2)}\n`,
    [CHECKPOINT_FILES.optimizer]: optimizerBytes,
    [CHECKPOINT_FILES.state]: `${JSON.stringify(state, null, 2)}\n`,
  });
  return state;
}

/**
 * Reads a checkpoint directory, or a run directory (its `checkpoints.json` names the latest checkpoint, or the best
 * one with `which: 'best'`).
 * @throws CheckpointError naming the path when files are missing, unreadable or of another format.
 */
export async function loadCheckpoint(
  location: string,
  options: { which?: 'latest' | 'best' } = {},
): Promise<LoadedCheckpoint> {
  const directory = await resolveCheckpointDirectory(location, options.which ?? 'latest');
  const statePath = path.join(directory, CHECKPOINT_FILES.state);
  let state: CheckpointState;
  try {
    state = parseStrictJson(await readFile(statePath, 'utf8')) as CheckpointState;
  } catch (error) {
    throw new CheckpointError(
      statePath,
      `cannot read the checkpoint state (${(error as Error).message}); pass a checkpoint directory written by @vkd/trainer`,
      { cause: error },
    );
  }
  if (
    typeof state !== 'object' ||
    state === null ||
    state.format !== FORMAT ||
    (state.version !== 1 && state.version !== VERSION)
  ) {
    throw new CheckpointError(
      statePath,
      `unsupported format ${JSON.stringify(state?.format)} version ${state?.version}; expected ${FORMAT} version ${VERSION}`,
    );
  }
  validateCheckpointState(state as unknown as Record<string, unknown>, statePath);
  const files: ReadonlyArray<readonly [string, string]> =
    state.version === 1
      ? [[VERSION_1_TENSORS, '']]
      : [
          [CHECKPOINT_FILES.modelWeights, 'model.'],
          [CHECKPOINT_FILES.optimizer, 'optimizer.'],
        ];
  const tensors: Record<string, tf.Tensor> = {};
  try {
    for (const [file, prefix] of files) {
      const tensorsPath = path.join(directory, file);
      const part = await readTensorsFile(tensorsPath);
      for (const [name, tensor] of Object.entries(part)) tensors[`${prefix}${name}`] = tensor;
      const health = await tensorHealth(part);
      if (health.some((entry) => entry.nonFinite > 0)) {
        throw new CheckpointError(
          tensorsPath,
          `holds ${describeNonFinite(health, part)}; it comes from a diverged run: use an earlier checkpoint`,
        );
      }
    }
  } catch (error) {
    tf.dispose(Object.values(tensors));
    throw error;
  }
  return { path: directory, state, tensors };
}

/** Reads one safetensors file of a checkpoint. @throws CheckpointError naming it when missing or malformed. */
async function readTensorsFile(file: string): Promise<Record<string, tf.Tensor>> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(file));
  } catch (error) {
    throw new CheckpointError(file, 'cannot read the checkpoint tensors', { cause: error });
  }
  try {
    return readSafetensors(bytes).tensors;
  } catch (error) {
    throw new CheckpointError(file, `is not a valid safetensors file: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Restores a run from a checkpoint into a live step (model weights, optimiser moments and count, learning rate,
 * step RNG) and data (sampler state), so the next epoch produces the same losses as an uninterrupted run.
 * @returns where to continue: pass `nextEpoch`/`globalStep` to `trainer.fit` as `startEpoch`/`globalStep`.
 * @throws CheckpointError when the checkpoint belongs to another kind of step or model.
 */
export async function restoreCheckpoint<Batch>(
  location: string,
  target: { step: TrainingStep<Batch>; data?: EpochData<Batch> },
): Promise<{ nextEpoch: number; globalStep: number; state: CheckpointState; path: string }> {
  const checkpoint = await loadCheckpoint(location);
  const { state, tensors } = checkpoint;
  try {
    const { step, data } = target;
    if (state.stepKind !== step.kind) {
      throw new CheckpointError(
        checkpoint.path,
        `was written by a '${state.stepKind}' step, cannot resume a '${step.kind}' step`,
      );
    }
    const variables = step.model.trainableVariables();
    if (state.trainableVariables !== variables.length) {
      throw new CheckpointError(
        checkpoint.path,
        `holds optimiser state for ${state.trainableVariables} variables but the model has ${variables.length}; was it built with the same config?`,
      );
    }
    setModelWeights(step.model, tensors, checkpoint.path);
    await step.optimizer.importState(
      variables,
      { iterations: state.optimizer.iterations, tensors: prefixed(tensors, 'optimizer.') },
      checkpoint.path,
    );
    step.optimizer.learningRate = state.learningRate;
    step.setState(state.step);
    if (state.data !== undefined && data?.setState) data.setState(state.data);
    return { nextEpoch: state.nextEpoch, globalStep: state.globalStep, state, path: checkpoint.path };
  } finally {
    tf.dispose(Object.values(tensors));
  }
}

/**
 * Copies the `model.*` tensors of a loaded checkpoint into a model.
 * @throws CheckpointError when the checkpoint holds no model weights or the model rejects them.
 */
export function setModelWeights(model: TrainableModel, tensors: Record<string, tf.Tensor>, source: string): void {
  const weights = prefixed(tensors, 'model.');
  if (Object.keys(weights).length === 0) throw new CheckpointError(source, 'holds no model.* tensors');
  try {
    model.setWeights(weights);
  } catch (error) {
    throw new CheckpointError(source, `the model rejected the weights: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Rebuilds the trained model of a checkpoint (its embedded model directory, read by `loadReidModel` of
 * `@vkd/models`: config and weights incl. BN statistics), e.g. the teacher for the VKD stage. The weights are checked
 * for NaN/Inf as by {@link loadCheckpoint}. Version-1 checkpoints (`modelConfig` in `state.json`) are read too.
 * @param location a checkpoint directory or a run directory (→ its latest checkpoint, or `which: 'best'`).
 * @returns a new model (caller disposes). @throws CheckpointError when the checkpoint cannot be read or applied.
 */
export async function loadModelFromCheckpoint(
  location: string,
  options: { which?: 'latest' | 'best' } = {},
): Promise<ReidModel> {
  const checkpoint = await loadCheckpoint(location, options);
  try {
    let model: ReidModel;
    const version1 = checkpoint.state as CheckpointState & { modelConfig?: unknown };
    try {
      model =
        version1.version === 1
          ? createReidModel(version1.modelConfig as ReidModelOptions)
          : await loadReidModel(checkpoint.path);
    } catch (error) {
      throw new CheckpointError(checkpoint.path, `holds a model that cannot be built: ${(error as Error).message}`, {
        cause: error,
      });
    }
    if (version1.version === 1) {
      try {
        setModelWeights(model, checkpoint.tensors, checkpoint.path);
      } catch (error) {
        model.dispose();
        throw error;
      }
    }
    return model;
  } finally {
    tf.dispose(Object.values(checkpoint.tensors));
  }
}

/** Refuses to write non-finite or diverged tensors into checkpoint `target`. */
async function checkWritable(target: string, tensors: Record<string, tf.Tensor>, weightBound: number): Promise<void> {
  const health = await tensorHealth(tensors);
  if (health.some((entry) => entry.nonFinite > 0)) {
    throw new NonFiniteValueError(
      `checkpoint ${target}`,
      `not written: the weights or optimiser state hold ${describeNonFinite(health, tensors)}`,
    );
  }
  const largest = health
    .filter((entry) => entry.name.startsWith('model.'))
    .reduce((top, entry) => (entry.maxAbs > top.maxAbs ? entry : top), { name: '', nonFinite: 0, maxAbs: 0 });
  if (largest.maxAbs > weightBound) {
    throw new TrainingDivergedError(
      `checkpoint ${target}`,
      `not written: weight ${largest.name} reaches ${largest.maxAbs.toExponential(2)}, beyond the bound ${weightBound.toExponential(0)}; the run diverged (lower the learning rate)`,
    );
  }
}

function prefixed(tensors: Record<string, tf.Tensor>, prefix: string): Record<string, tf.Tensor> {
  const selected: Record<string, tf.Tensor> = {};
  for (const [name, tensor] of Object.entries(tensors))
    if (name.startsWith(prefix)) selected[name.slice(prefix.length)] = tensor;
  return selected;
}

/** A run directory with `checkpoints.json` → its latest (or best) checkpoint; a checkpoint directory → itself. */
async function resolveCheckpointDirectory(location: string, which: 'latest' | 'best'): Promise<string> {
  const info = await stat(location).catch((error: unknown) => {
    throw new CheckpointError(
      location,
      'does not exist; pass a checkpoint directory or a run directory with checkpoints.json',
      { cause: error },
    );
  });
  if (!info.isDirectory())
    throw new CheckpointError(location, 'is not a directory; pass a checkpoint directory or a run directory');
  const index = await readCheckpointIndex(location);
  if (index === undefined) return location;
  if (which === 'best') {
    if (index.best === undefined)
      throw new CheckpointError(
        location,
        'checkpoints.json records no best checkpoint (train with checkpointHook({ best }))',
      );
    return path.join(location, index.best.name);
  }
  if (index.latest === undefined) throw new CheckpointError(location, 'checkpoints.json lists no checkpoint yet');
  return path.join(location, index.latest);
}

/** One entry of `checkpoints.json`. */
export interface CheckpointEntry {
  name: string;
  nextEpoch: number;
  globalStep: number;
  metrics: Record<string, number>;
  savedAt: string;
}

/** `checkpoints.json` in a run's checkpoint directory. */
export interface CheckpointIndex {
  latest?: string;
  /** Newest checkpoint written while no divergence was suspected (kept out of rotation). */
  lastGood?: string;
  best?: { name: string; metric: string; value: number; mode: 'max' | 'min' };
  checkpoints: CheckpointEntry[];
}

/** The index file of a checkpoint directory (latest, best, every checkpoint kept). */
export const CHECKPOINT_INDEX = 'checkpoints.json';

/**
 * Reads `checkpoints.json`, or undefined when the directory has none (the file does not exist: nothing saved yet).
 * @throws CheckpointError naming the file when it exists but cannot be read (permissions, a directory in its place,
 * I/O errors) or is corrupt.
 */
export async function readCheckpointIndex(directory: string): Promise<CheckpointIndex | undefined> {
  const file = path.join(directory, CHECKPOINT_INDEX);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    const reason = (error as Error).message;
    throw new CheckpointError(file, `cannot be read (${reason}); fix its permissions or move it aside, then retry`, {
      cause: error,
    });
  }
  try {
    const index = parseStrictJson(text) as CheckpointIndex;
    if (!Array.isArray(index.checkpoints)) throw new Error('no checkpoints array');
    return index;
  } catch (error) {
    throw new CheckpointError(file, `is not a valid checkpoint index: ${(error as Error).message}`, { cause: error });
  }
}
