import { applyAugmentation, type AugmentationParameters } from '../augmentation';
import { bytesToFloat, NORMALIZED_BYTE } from '../image-normalization';
import { decodeImage, type ReadImageOptions } from './read-image';

/** What every frame of one loader shares: output size, resize mode and augmentation constants. */
export interface FrameSettings {
  readonly height: number;
  readonly width: number;
  readonly resize: NonNullable<ReadImageOptions['resize']>;
  /** Zero padding before the random crop (used only with `parameters`). */
  readonly padding: number;
  /** Random-erasing fill in normalised space. */
  readonly eraseValue: number;
}

/** One frame to decode into a batch: the file, where it goes (in floats) and its pre-drawn augmentation. */
export interface FrameJob {
  readonly path: string;
  readonly offset: number;
  readonly parameters?: AugmentationParameters;
}

/**
 * Decodes, resizes, augments (when `job.parameters`) and normalises one frame into `out` at `job.offset`, as float32
 * `[H, W, 3]`. The one code path of the loader, on the calling thread or in a frame worker, so results are
 * bit-identical whatever the number of workers.
 * @throws DatasetFormatError / CorruptImageError naming the file (see `decodeImage`).
 */
export async function loadFrameInto(job: FrameJob, settings: FrameSettings, out: Float32Array): Promise<void> {
  const image = await decodeImage(job.path, {
    height: settings.height,
    width: settings.width,
    resize: settings.resize,
  });
  if (job.parameters) {
    applyAugmentation(
      image.data,
      settings.height,
      settings.width,
      job.parameters,
      settings.padding,
      out,
      job.offset,
      settings.eraseValue,
    );
  } else bytesToFloat(image.data, out, job.offset, NORMALIZED_BYTE);
}
