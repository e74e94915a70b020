// @vkd/datasets: pure data (loaders return paths and labels), samplers and frame strategies. No sharp at module load:
// functions that must decode or write images (generateSyntheticDataset, validateFrames) import it on first use.
export type {
  Tracklet,
  ReidDataset,
  DatasetStatistics,
  SplitStatistics,
  DatasetEvaluation,
  LoadDatasetOptions,
  DatasetLoader,
  BadFramePolicy,
} from './types';
export {
  loadDataset,
  registerDataset,
  datasetNames,
  datasetEntry,
  findDatasetEntry,
  datasetEntries,
} from './dataset-registry';
export { EVALUATION_PROTOCOLS } from './dataset-entry';
export type {
  DatasetEntry,
  EvaluationProtocol,
  AuthorsRuns,
  AuthorsNetwork,
  AuthorsTeacherSettings,
} from './dataset-entry';
export { CorruptImageError } from './corrupt-image-error';
export type { DatasetName, DatasetOptionsByName } from './dataset-registry';
export { loadMars, MARS_LAYOUT } from './mars';
export type { MarsOptions, MarsProtocol } from './mars';
export { loadDukeVideo, DUKE_VIDEO_LAYOUT } from './duke-video';
export type { DukeVideoOptions } from './duke-video';
export { loadVeri776, VERI_776_LAYOUT } from './veri-776';
export type { Veri776Options } from './veri-776';
export { loadAtrw, ATRW_LAYOUT } from './atrw';
export type { AtrwOptions, AtrwProtocol } from './atrw';
export { loadFolder, FOLDER_LAYOUT } from './folder';
export type { FolderOptions } from './folder';
export { loadSynthetic } from './synthetic';
export type { SyntheticOptions } from './synthetic';
export { generateSyntheticDataset, SYNTHETIC_MANIFEST } from './synthetic-dataset';
export {
  planSyntheticDataset,
  visibleSignature,
  SYNTHETIC_LIMITS,
  SYNTHETIC_VIEWS,
  VISIBLE_ATTRIBUTES,
} from './synthetic-plan';
export type {
  SyntheticDatasetOptions,
  SyntheticPlan,
  SyntheticIdentity,
  SyntheticCamera,
  AttributeSizes,
} from './synthetic-plan';
export { deriveQueryGallery } from './query-gallery';
export { computeStatistics, formatStatistics } from './statistics';
export { cameraName } from './camera-names';
export { createIdentitySampler, mixSeed } from './identity-sampler';
export type { IdentitySampler, IdentitySamplerOptions, IdentitySamplerState } from './identity-sampler';
export {
  FRAME_STRATEGIES,
  chunkFrameIndices,
  chunkFirstFrameIndices,
  selectFrames,
  sampleStudentViews,
  gatherViews,
} from './frame-sampler';
export type { FrameStrategy, FrameRef } from './frame-sampler';
export { IMAGENET_MEAN, IMAGENET_STD } from './image-normalization';
