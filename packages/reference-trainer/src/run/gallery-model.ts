import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { GalleryModel } from '@vkd/gallery';
import type { ReidModel } from '@vkd/models';
import type { DataSettings } from '../config/stage-settings';

/**
 * The identity of a model directory for a gallery: its folder name and a SHA-256 over its model.json and weights
 * (every `.json`/`.safetensors` file in it, by name), so another model, or the same model retrained, never matches.
 */
export async function modelContentId(modelDirectory: string): Promise<string> {
  const files = (await readdir(modelDirectory, { withFileTypes: true }))
    .filter((entry) => entry.isFile() && /\.(json|safetensors)$/.test(entry.name))
    .map((entry) => entry.name)
    .sort();
  const hash = createHash('sha256');
  for (const file of files) {
    hash.update(`${file}\n`);
    hash.update(await readFile(join(modelDirectory, file)));
  }
  const name = basename(modelDirectory) === 'model' ? basename(join(modelDirectory, '..')) : basename(modelDirectory);
  return `${name}@${hash.digest('hex').slice(0, 16)}`;
}

/** What a gallery records about the model and input settings its embeddings were extracted with. */
export async function galleryModelOf(
  modelDirectory: string,
  model: ReidModel,
  data: Pick<DataSettings, 'height' | 'width' | 'testFrames'>,
): Promise<GalleryModel> {
  return {
    modelId: await modelContentId(modelDirectory),
    dimension: model.embeddingDim,
    inputSettings: {
      height: data.height,
      width: data.width,
      framesPerTracklet: data.testFrames,
      frameRule: 'chunk-first',
      embedding: 'pre-bnneck',
      backbone: model.config.backbone,
    },
  };
}
