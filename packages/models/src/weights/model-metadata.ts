import { CheckpointError } from '@vkd/core';
import type { ReidModel } from '../reid-model';

/** How frames must be prepared for a model: what it was trained on and what every later command must feed it. */
export interface ModelInputSpec {
  /** Input height in pixels (frames are resized to height × width). */
  readonly height: number;
  readonly width: number;
  /**
   * Per-channel normalisation applied to RGB values scaled to [0, 1]: `(value − mean) / std` (ImageNet statistics in
   * VKD; `@vkd/datasets`' image pipeline applies them).
   */
  readonly normalization: { readonly mean: readonly number[]; readonly std: readonly number[] };
}

/** What a model was trained on. */
export interface ModelTrainingRecord {
  /** `teacher` (train-teacher), `student` (distill), or another label. */
  readonly stage: string;
  /** Dataset loader name, e.g. `mars`. */
  readonly dataset: string;
  /** Training identities (classifier outputs); equals `config.numIdentities`. */
  readonly numIdentities: number;
  /** Frames per training tracklet the model itself saw (teacher: N; VKD student: M of the teacher's N). */
  readonly framesPerTracklet: number;
  /** Frames per query/gallery tracklet its evaluation used (chunk-first). */
  readonly testFrames?: number;
  /** Model directory of the teacher a student was distilled from. */
  readonly teacher?: string;
}

/**
 * Everything needed to use a saved model besides its architecture (`config`: backbone, attention, widths), stored in
 * `model.json` next to it. Optional: model directories written before it existed load without it.
 */
export interface ModelMetadata {
  readonly input: ModelInputSpec;
  readonly training?: ModelTrainingRecord;
}

const attached = new WeakMap<object, ModelMetadata>();

/**
 * Attaches metadata to a model in memory: `serializeReidModel` / `saveReidModel` (and so every checkpoint or model
 * directory written from it) store it in `model.json`; `loadReidModel` attaches what it read.
 */
export function setModelMetadata(model: ReidModel, metadata: ModelMetadata): void {
  attached.set(model, validateModelMetadata(metadata, '<setModelMetadata>'));
}

/** The metadata attached to a model (`setModelMetadata`, `loadReidModel`), or undefined. */
export function modelMetadata(model: ReidModel): ModelMetadata | undefined {
  return attached.get(model);
}

const positiveInteger = (value: unknown) => typeof value === 'number' && Number.isInteger(value) && value >= 1;
const triple = (value: unknown) =>
  Array.isArray(value) &&
  value.length === 3 &&
  value.every((entry) => typeof entry === 'number' && Number.isFinite(entry));

/**
 * Checks metadata read from `model.json` (or given by a caller).
 * @param source the file named in errors.
 * @throws CheckpointError naming the field and what is expected.
 */
export function validateModelMetadata(metadata: unknown, source: string): ModelMetadata {
  const fail = (field: string, expected: string): never => {
    throw new CheckpointError(
      source,
      `metadata.${field} is invalid: expected ${expected}. Re-save the model, or remove "metadata" from model.json to load it without (then pass --height/--width).`,
    );
  };
  const candidate = metadata as Partial<ModelMetadata> | null;
  if (candidate === null || typeof candidate !== 'object') return fail('', 'an object');
  const input = candidate.input as Partial<ModelInputSpec> | undefined;
  if (!input || typeof input !== 'object') return fail('input', 'an object { height, width, normalization }');
  if (!positiveInteger(input.height)) return fail('input.height', 'a positive integer');
  if (!positiveInteger(input.width)) return fail('input.width', 'a positive integer');
  if (!input.normalization || !triple(input.normalization.mean) || !triple(input.normalization.std)) {
    return fail('input.normalization', '{ mean: [r, g, b], std: [r, g, b] }');
  }
  if (input.normalization.std.some((value) => value <= 0)) return fail('input.normalization.std', 'positive values');
  const training = candidate.training as Partial<ModelTrainingRecord> | undefined;
  if (training !== undefined) {
    if (typeof training !== 'object' || training === null) return fail('training', 'an object');
    if (typeof training.stage !== 'string') return fail('training.stage', 'a string');
    if (typeof training.dataset !== 'string') return fail('training.dataset', 'a string');
    if (!positiveInteger(training.numIdentities)) return fail('training.numIdentities', 'a positive integer');
    if (!positiveInteger(training.framesPerTracklet)) return fail('training.framesPerTracklet', 'a positive integer');
    if (training.testFrames !== undefined && !positiveInteger(training.testFrames))
      return fail('training.testFrames', 'a positive integer');
    if (training.teacher !== undefined && typeof training.teacher !== 'string')
      return fail('training.teacher', 'a string');
  }
  return candidate as ModelMetadata;
}
