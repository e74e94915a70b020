import { DatasetFormatError } from '@vkd/core';

const marker = Symbol.for('@vkd/datasets/corrupt-image-error');

/**
 * An image file exists but cannot be decoded (corrupt or truncated JPEG/PNG). A `DatasetFormatError` naming the file,
 * whose message advises library users (`validateFrames: true, onBadFrame: 'skip'`); `decoderMessage` (what sharp
 * said) lets an application such as the `vkd` CLI phrase its own advice in terms of its own flags.
 */
export class CorruptImageError extends DatasetFormatError {
  // biome-ignore lint/correctness/noUnusedPrivateClassMembers: read through the Symbol.for key by isInstance
  private readonly [marker] = true;
  /** The decoder's own message, e.g. `VipsJpeg: Premature end of input file`. */
  readonly decoderMessage: string;

  /**
   * @param file the image.
   * @param decoderMessage what the decoder reported.
   * @param reason the whole reason shown after the file name (what failed and what to do).
   */
  constructor(file: string, decoderMessage: string, reason: string, options: { cause?: unknown } = {}) {
    super(file, reason, options);
    this.name = 'CorruptImageError';
    this.decoderMessage = decoderMessage;
  }

  /** True for a `CorruptImageError`, even one created by another copy of this package (or another bundle entry). */
  static override isInstance(error: unknown): error is CorruptImageError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[marker] === true;
  }
}
