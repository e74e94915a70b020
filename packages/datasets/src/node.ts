// @vkd/datasets/node: the sharp image pipeline (decode, resize, augment, normalise) and the batch loader.
export { readImage, decodeImage } from './pipeline/read-image';
export type { ReadImageOptions, ImageFrame } from './pipeline/read-image';
export {
  createTrackletLoader,
  DEFAULT_LOADER_PREFETCH,
  DEFAULT_LOADER_WORKERS,
  MAX_LOADER_PREFETCH,
  MAX_LOADER_WORKERS,
} from './pipeline/tracklet-loader';
export { closeFrameWorkers } from './pipeline/frame-worker-pool';
export type { TrackletBatch, TrackletLoaderOptions } from './pipeline/tracklet-loader';
export { createEvaluationLoader } from './pipeline/evaluation-loader';
export type { EvaluationLoaderOptions } from './pipeline/evaluation-loader';
export { drawAugmentation, applyAugmentation, validateAugmentation } from './augmentation';
export type { AugmentationOptions, AugmentationParameters, RandomErasingOptions } from './augmentation';
export { IMAGENET_MEAN, IMAGENET_STD } from './image-normalization';
export { generateSyntheticDataset } from './synthetic-dataset';
