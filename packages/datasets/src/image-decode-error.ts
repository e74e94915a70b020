import { DatasetFormatError } from '@vkd/core';
import { CorruptImageError } from './corrupt-image-error';

/** sharp's default `limitInputPixels` (16383 × 16383): larger images are refused before decoding, to bound memory. */
export const SHARP_PIXEL_LIMIT = 0x3fff * 0x3fff;

/**
 * The error for an image sharp could not decode: an image over sharp's pixel limit is named as such (it is not
 * corrupt: it is too large to decode, and the fix is to downscale it); anything else is a {@link CorruptImageError}
 * whose message ends with `advice` (what a library user can do about a corrupt frame).
 */
export function imageDecodeError(path: string, error: unknown, advice: string): DatasetFormatError {
  const decoderMessage = (error as Error).message;
  if (/exceeds pixel limit/i.test(decoderMessage)) {
    return new DatasetFormatError(
      path,
      `cannot decode image (${decoderMessage}): it has more pixels than sharp's limitInputPixels ` +
        `(${SHARP_PIXEL_LIMIT.toLocaleString('en-US')}, i.e. 16383×16383), which bounds the memory one decode takes. ` +
        'The file is not corrupt: downscale it below that limit (e.g. `vips resize` or ImageMagick `-resize`), or crop it.',
      { cause: error },
    );
  }
  return new CorruptImageError(path, decoderMessage, `cannot decode image (${decoderMessage}). ${advice}`, {
    cause: error,
  });
}
