export { VkdError } from './errors/vkd-error';
export { InvalidOptionError, describeValue } from './errors/invalid-option-error';
export { ShapeMismatchError } from './errors/shape-mismatch-error';
export { UnknownKeyError } from './errors/unknown-key-error';
export { DuplicateKeyError } from './errors/duplicate-key-error';
export { FileFormatError } from './errors/file-format-error';
export { DatasetNotFoundError, DatasetFormatError } from './errors/dataset-errors';
export { CheckpointError } from './errors/checkpoint-error';
export { UnsafePickleError } from './errors/unsafe-pickle-error';
export { UnsupportedBackendError } from './errors/unsupported-backend-error';
export type { BackendAttempt } from './errors/unsupported-backend-error';
export { NonFiniteValueError } from './errors/numeric-error';
export { TrainingDivergedError } from './errors/training-diverged-error';
export { RunDirectoryError } from './errors/run-directory-error';
export { NodeOnlyError } from './errors/node-only-error';
export { importNodeBuiltin } from './node-builtin';
export { createRegistry } from './registry';
export type { Registry } from './registry';
export { assertShape, formatShape } from './shapes';
export type { DimensionSpec } from './shapes';
export { createRandom, MAX_SEED } from './random';
export { DuplicateJsonKeyError, findDuplicateJsonKey, parseStrictJson } from './strict-json';
export type { DuplicateJsonKey } from './strict-json';
export type { Random } from './random';
export {
  ADAM_UPDATE_KERNEL,
  BATCH_NORM_TRAINING_GRAD_KERNEL,
  BATCH_NORM_TRAINING_KERNEL,
  FUSED_KERNEL_NAMES,
} from './fused-kernels';
export type { AdamUpdateAttrs, BatchNormTrainingAttrs, BatchNormTrainingGradAttrs } from './fused-kernels';
