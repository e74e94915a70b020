import { readFile } from 'node:fs/promises';
import { DatasetFormatError, InvalidOptionError } from '@vkd/core';
import { CorruptImageError } from '../corrupt-image-error';
import { resizeBicubicPillow } from '../pillow-resize';
import { loadSharp } from '../sharp-module';
import { bytesToFloat, NORMALIZED_BYTE, UNIT_BYTE } from '../image-normalization';
import { decodePlainJpeg, isPlainJpeg } from './wasm-jpeg';

/** Options of {@link readImage} / {@link decodeImage}. */
export interface ReadImageOptions {
  /** Output height H (default 256). */
  readonly height?: number;
  /** Output width W (default 128). */
  readonly width?: number;
  /**
   * How frames of another size are resized to H×W (frames already H×W, like MARS's 256×128, are never resampled):
   * `'pillow'` (default): a port of Pillow's BICUBIC, bit-identical to VKD's `T.Resize((H, W), interpolation=3)`;
   * runs in JavaScript on the calling thread. `'sharp'`: libvips `cubic` on the libuv pool: faster; when shrinking
   * within about 1 grey level of Pillow on average, when enlarging a few levels (libvips samples other positions).
   * `'letterbox'`: VKD's `AdaptiveResize` (`data/misc.py`, their resize for datasets other than MARS/Duke/VeRi): the
   * aspect ratio is kept (Pillow BICUBIC to ⌊w·r⌋×⌊h·r⌋, r = min(W/w, H/h)), then zero (black) padding centred, the
   * odd pixel on the top / left.
   */
  readonly resize?: 'pillow' | 'sharp' | 'letterbox';
}

/** A decoded frame. */
export interface ImageFrame<Data extends Uint8Array | Float32Array> {
  /** `[H, W, 3]` RGB, row-major. */
  readonly data: Data;
  readonly height: number;
  readonly width: number;
}

export function validateImageSize(height: number, width: number, where: string): void {
  for (const [name, value] of [
    ['height', height],
    ['width', width],
  ] as const) {
    if (!Number.isInteger(value) || value < 1 || value > 8192)
      throw new InvalidOptionError(`${where}.${name}`, value, 'Use an integer in 1..8192.');
  }
}

/**
 * Decodes an image file and resizes it to exactly H×W (bicubic, aspect ratio not kept, as torchvision `Resize((H, W))`),
 * as uint8 RGB `[H, W, 3]`. Grey and RGBA inputs become RGB. Plain YCbCr JPEGs (MARS, Duke, VeRi) are decoded in
 * WebAssembly on the calling thread (same bytes as sharp, about 2× faster at 256×128; see `wasm-jpeg.ts`); other
 * files, `resize: 'sharp'`, and any JPEG the WebAssembly decoder warns about go to sharp on the libuv thread pool.
 * @throws DatasetFormatError naming the file when it is missing; CorruptImageError (a DatasetFormatError) when it is
 *   corrupt or truncated.
 */
export async function decodeImage(path: string, options: ReadImageOptions = {}): Promise<ImageFrame<Uint8Array>> {
  const height = options.height ?? 256;
  const width = options.width ?? 128;
  validateImageSize(height, width, 'readImage');
  const sharp = await loadSharp();
  const mode = options.resize ?? 'pillow';
  if (mode !== 'pillow' && mode !== 'sharp' && mode !== 'letterbox')
    throw new InvalidOptionError('readImage.resize', mode, 'Use "pillow", "sharp" or "letterbox".');
  let result: { data: Uint8Array; info: { channels: number; width: number; height: number } } | undefined;
  if (mode !== 'sharp') result = await decodeWithWasm(path);
  if (!result) result = await decodeWithSharp(sharp, path, mode, height, width);
  if (result.info.channels !== 3)
    throw new DatasetFormatError(path, `decoded to ${result.info.channels} channels, expected 3 (RGB)`);
  const pixels = result.data;
  if (mode === 'letterbox')
    return { data: letterbox(pixels, result.info.height, result.info.width, height, width), height, width };
  if (result.info.height !== height || result.info.width !== width) {
    return { data: resizeBicubicPillow(pixels, result.info.height, result.info.width, height, width), height, width };
  }
  return { data: pixels, height, width };
}

/** The WebAssembly path of {@link decodeImage}: undefined for an unreadable, non-plain or suspicious file. */
async function decodeWithWasm(
  path: string,
): Promise<{ data: Uint8Array; info: { channels: number; width: number; height: number } } | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch {
    return undefined; // sharp reports it, with today's message
  }
  if (!isPlainJpeg(bytes)) return undefined;
  const image = await decodePlainJpeg(bytes);
  return image && { data: image.data, info: { channels: 3, width: image.width, height: image.height } };
}

/** The sharp path of {@link decodeImage}, and the errors naming the file. */
async function decodeWithSharp(
  sharp: Awaited<ReturnType<typeof loadSharp>>,
  path: string,
  mode: NonNullable<ReadImageOptions['resize']>,
  height: number,
  width: number,
): Promise<{ data: Uint8Array; info: { channels: number; width: number; height: number } }> {
  let result: { data: Buffer; info: { channels: number; width: number; height: number } };
  try {
    let pipeline = sharp(path, { failOn: 'warning' });
    if (mode === 'sharp') pipeline = pipeline.resize(width, height, { fit: 'fill', kernel: 'cubic' });
    result = await pipeline.removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  } catch (error) {
    const reason = (error as Error).message;
    if (/no such file|missing|ENOENT/i.test(reason))
      throw new DatasetFormatError(path, `cannot decode image (${reason}). The file does not exist.`, { cause: error });
    const hint =
      'The file is corrupt or truncated: replace it, or load the dataset with validateFrames: true, onBadFrame: "skip".';
    throw new CorruptImageError(path, reason, `cannot decode image (${reason}). ${hint}`, { cause: error });
  }
  return {
    data: new Uint8Array(result.data.buffer, result.data.byteOffset, result.data.byteLength),
    info: result.info,
  };
}

/**
 * Reads one frame as float32 `[H, W, 3]` RGB, ImageNet-normalised (`(x/255 − mean)/std`, the models' input) or in
 * 0..1 with `normalize: false`. The test-time pipeline of VKD (bicubic resize → ToTensor → Normalize).
 * @throws DatasetFormatError naming the file.
 */
export async function readImage(
  path: string,
  options: ReadImageOptions & { normalize?: boolean } = {},
): Promise<ImageFrame<Float32Array>> {
  const frame = await decodeImage(path, options);
  const data = new Float32Array(frame.data.length);
  bytesToFloat(frame.data, data, 0, options.normalize === false ? UNIT_BYTE : NORMALIZED_BYTE);
  return { data, height: frame.height, width: frame.width };
}

/** `AdaptiveResize.get_padding`: the two sides of a padding, the odd pixel first. */
function padding(total: number): [number, number] {
  if (total === 0) return [0, 0];
  return total % 2 === 0 ? [total / 2, total / 2] : [Math.floor(total / 2) + 1, Math.floor(total / 2)];
}

/** Aspect-preserving bicubic resize into H×W, zero-padded (VKD `AdaptiveResize`), uint8 RGB. */
function letterbox(
  pixels: Uint8Array,
  sourceHeight: number,
  sourceWidth: number,
  height: number,
  width: number,
): Uint8Array {
  const ratio = Math.min(width / sourceWidth, height / sourceHeight);
  const innerWidth = Math.floor(sourceWidth * ratio);
  const innerHeight = Math.floor(sourceHeight * ratio);
  const inner =
    innerHeight === sourceHeight && innerWidth === sourceWidth
      ? pixels
      : resizeBicubicPillow(pixels, sourceHeight, sourceWidth, innerHeight, innerWidth);
  const [top] = padding(height - innerHeight);
  const [left] = padding(width - innerWidth);
  const out = new Uint8Array(height * width * 3);
  for (let row = 0; row < innerHeight; row++) {
    out.set(inner.subarray(row * innerWidth * 3, (row + 1) * innerWidth * 3), ((row + top) * width + left) * 3);
  }
  return out;
}
