export { createReidModel } from './reid-model';
export type { ReidModel, ForwardOptions, ForwardResult, FeatureMapsForwardOptions, WeightSpec } from './reid-model';
export { validateReidModelOptions, ATTENTION_NAMES } from './model-options';
export {
  getBackbone,
  registerBackbone,
  backboneNames,
  backboneChoices,
  resolveBackboneName,
  backbonesWithAttention,
  checkBackboneAttention,
} from './backbones/backbone-registry';
export type { Backbone, BackboneNetwork } from './backbones/backbone';
export type { ForwardContext } from './layers/conv-unit';
export type { BatchNormMode } from './layers/batch-norm';
export type { ReidModelOptions, ReidModelConfig, BackboneName, AttentionName } from './model-options';
export type { ParameterLayout, ParameterSpec, ParameterInit } from './parameters';
export { BATCH_NORM_EPSILON, BATCH_NORM_MOMENTUM } from './layers/batch-norm';
export { setLegacyTrainingMemory, setRecomputeConvolutions } from './layers/training-memory';
export {
  parseSafetensors,
  encodeSafetensors,
  readSafetensors,
  writeSafetensors,
  entryToFloat32,
  entryToInt32,
} from './weights/safetensors';
export type { SafetensorsDtype, SafetensorsEntry, SafetensorsFile, SafetensorsArray } from './weights/safetensors';
export { importTorchWeights } from './weights/import-torch-weights';
export type { ImportTorchWeightsOptions, ImportReport } from './weights/import-torch-weights';
export { TORCH_WEIGHTS_FORMATS, isImagenetWeight } from './weights/torch-names';
export type { TorchWeightsFormat } from './weights/torch-names';
export { readWeightsFile, detectWeightsFileFormat } from './weights/weights-file';
export type { WeightsFileFormat } from './weights/weights-file';
export {
  readAuthorsRunFolder,
  looksLikeAuthorsRunFolder,
  AUTHORS_DEFAULT_CHECKPOINT,
} from './weights/authors-run-folder';
export type { AuthorsRunFolder } from './weights/authors-run-folder';
export { importAuthorsRun } from './weights/import-authors-run';
export type { ImportAuthorsRunOptions } from './weights/import-authors-run';
export { rankBackbones } from './weights/backbone-match';
export type { BackboneMatch } from './weights/backbone-match';
export { resolveAuthorsBackbone } from './backbones/authors-backbone-name';
export {
  saveReidModel,
  loadReidModel,
  serializeReidModel,
  deserializeReidModel,
  REID_MODEL_FORMAT,
} from './weights/reid-model-io';
export { CHECKPOINT_MODEL_DIRECTORY, MODEL_CONFIG_FILE, MODEL_WEIGHTS_FILE } from './weights/reid-model-io';
export type { ReidModelManifest } from './weights/reid-model-io';
export { setModelMetadata, modelMetadata, validateModelMetadata } from './weights/model-metadata';
export type { ModelMetadata, ModelInputSpec, ModelTrainingRecord } from './weights/model-metadata';
