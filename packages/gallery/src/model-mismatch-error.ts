import { VkdError } from '@vkd/core';
import type { GalleryModel } from './tracklet-record';

/** Embeddings from one model were used with a gallery built from another. */
export class ModelMismatchError extends VkdError {
  readonly directory: string;
  readonly galleryModel: GalleryModel;
  readonly requestedModel: GalleryModel;

  constructor(directory: string, galleryModel: GalleryModel, requestedModel: GalleryModel) {
    super(
      `Gallery ${directory} holds embeddings of model "${galleryModel.modelId}" (D = ${galleryModel.dimension}), ` +
        `not of model "${requestedModel.modelId}" (D = ${requestedModel.dimension}): distances between them mean ` +
        'nothing. Use the model the gallery was indexed with, or index into a new --db directory.',
    );
    this.name = 'ModelMismatchError';
    this.directory = directory;
    this.galleryModel = galleryModel;
    this.requestedModel = requestedModel;
  }
}
