import { InvalidOptionError, type Random } from '@vkd/core';
import { NORMALIZED_BYTE } from './image-normalization';

/** Random erasing parameters (VKD: p 0.5, area 0.02–0.4, aspect 0.3–3.3 persons / 0.7–1.4 vehicles, fill 0). */
export interface RandomErasingOptions {
  readonly probability?: number;
  readonly area?: readonly [number, number];
  readonly aspect?: readonly [number, number];
  /** Fill value in normalised space (0 = the ImageNet mean colour). */
  readonly value?: number;
}

/** Training augmentation options (defaults = VKD's person pipeline). */
export interface AugmentationOptions {
  /** Zero padding before the random crop (default 10). */
  readonly padding?: number;
  /** Horizontal flip probability (default 0.5). */
  readonly flipProbability?: number;
  /** Random erasing, or `false` to disable (default VKD person parameters). */
  readonly erasing?: RandomErasingOptions | false;
}

/** The random choices for one frame, drawn before decoding so that results do not depend on decode order. */
export interface AugmentationParameters {
  /** Crop offset in the padded image, 0..2·padding. */
  readonly cropTop: number;
  readonly cropLeft: number;
  readonly flip: boolean;
  /** Erased rectangle in output coordinates, or undefined. */
  readonly erase?: { readonly top: number; readonly left: number; readonly height: number; readonly width: number };
}

interface ResolvedAugmentation {
  readonly padding: number;
  readonly flipProbability: number;
  readonly erasing: Required<RandomErasingOptions> | false;
}

/** Fills defaults and checks ranges. @throws InvalidOptionError */
export function validateAugmentation(options: AugmentationOptions = {}): ResolvedAugmentation {
  const padding = options.padding ?? 10;
  const flipProbability = options.flipProbability ?? 0.5;
  if (!Number.isInteger(padding) || padding < 0)
    throw new InvalidOptionError('augmentation.padding', padding, 'Use an integer ≥ 0.');
  if (!(flipProbability >= 0 && flipProbability <= 1))
    throw new InvalidOptionError('augmentation.flipProbability', flipProbability, 'Use a number in [0, 1].');
  if (options.erasing === false) return { padding, flipProbability, erasing: false };
  const erasing = {
    probability: 0.5,
    area: [0.02, 0.4] as const,
    aspect: [0.3, 3.3] as const,
    value: 0,
    ...(options.erasing ?? {}),
  };
  if (!(erasing.probability >= 0 && erasing.probability <= 1))
    throw new InvalidOptionError('augmentation.erasing.probability', erasing.probability, 'Use a number in [0, 1].');
  const [areaLow, areaHigh] = erasing.area;
  const [aspectLow, aspectHigh] = erasing.aspect;
  if (!(areaLow > 0 && areaLow <= areaHigh && areaHigh <= 1))
    throw new InvalidOptionError('augmentation.erasing.area', erasing.area, 'Use [low, high] with 0 < low ≤ high ≤ 1.');
  if (!(aspectLow > 0 && aspectLow <= aspectHigh))
    throw new InvalidOptionError('augmentation.erasing.aspect', erasing.aspect, 'Use [low, high] with 0 < low ≤ high.');
  return { padding, flipProbability, erasing };
}

/**
 * Draws one frame's augmentation, in torchvision order: RandomCrop offsets (`randint(0, 2·padding)` each), flip,
 * then RandomErasing (torchvision 0.4.2, as pinned by VKD: up to 10 attempts; area·HW uniform in `area`, aspect
 * uniform (linear) in `aspect`; h = round(√(area·aspect)), w = round(√(area/aspect)); accepted when h < H and w < W).
 */
export function drawAugmentation(
  random: Random,
  height: number,
  width: number,
  options: ResolvedAugmentation,
): AugmentationParameters {
  const cropTop = random.integer(2 * options.padding + 1);
  const cropLeft = random.integer(2 * options.padding + 1);
  const flip = random.next() < options.flipProbability;
  const { erasing } = options;
  if (!erasing || random.next() >= erasing.probability) return { cropTop, cropLeft, flip };
  const area = height * width;
  for (let attempt = 0; attempt < 10; attempt++) {
    const target = (erasing.area[0] + (erasing.area[1] - erasing.area[0]) * random.next()) * area;
    const aspect = erasing.aspect[0] + (erasing.aspect[1] - erasing.aspect[0]) * random.next();
    const eraseHeight = Math.round(Math.sqrt(target * aspect));
    const eraseWidth = Math.round(Math.sqrt(target / aspect));
    if (eraseHeight < height && eraseWidth < width) {
      const top = random.integer(height - eraseHeight + 1);
      const left = random.integer(width - eraseWidth + 1);
      return { cropTop, cropLeft, flip, erase: { top, left, height: eraseHeight, width: eraseWidth } };
    }
  }
  return { cropTop, cropLeft, flip };
}

/**
 * Applies pad → crop → flip → normalise → erase to a resized uint8 RGB frame `[H, W, 3]`, writing float32
 * `[H, W, 3]` into `out` at `offset`. Padding is black (0) before normalisation, as torchvision `Pad(10)`.
 */
export function applyAugmentation(
  pixels: Uint8Array,
  height: number,
  width: number,
  parameters: AugmentationParameters,
  padding: number,
  out: Float32Array,
  offset: number,
  eraseValue = 0,
): void {
  const [red, green, blue] = NORMALIZED_BYTE as [Float32Array, Float32Array, Float32Array];
  const [padRed, padGreen, padBlue] = [red[0] as number, green[0] as number, blue[0] as number];
  const shiftY = parameters.cropTop - padding;
  const shiftX = parameters.cropLeft - padding;
  // Output columns [inside, insideEnd) read the image, the rest is padding; per row, no per-pixel branch.
  const inside = parameters.flip ? Math.max(0, shiftX) : Math.max(0, -shiftX);
  const insideEnd = parameters.flip ? Math.min(width, width + shiftX) : Math.min(width, width - shiftX);
  const step = parameters.flip ? -3 : 3;
  for (let y = 0; y < height; y++) {
    const sourceY = y + shiftY;
    const rowStart = offset + y * width * 3;
    const rowInside = sourceY >= 0 && sourceY < height && inside < insideEnd;
    const from = rowInside ? inside : width;
    const to = rowInside ? insideEnd : width;
    for (let target = rowStart, end = rowStart + from * 3; target < end; target += 3) {
      out[target] = padRed;
      out[target + 1] = padGreen;
      out[target + 2] = padBlue;
    }
    if (rowInside) {
      const firstX = parameters.flip ? width - 1 - from + shiftX : from + shiftX;
      let source = (sourceY * width + firstX) * 3;
      for (let target = rowStart + from * 3, end = rowStart + to * 3; target < end; target += 3, source += step) {
        out[target] = red[pixels[source] as number] as number;
        out[target + 1] = green[pixels[source + 1] as number] as number;
        out[target + 2] = blue[pixels[source + 2] as number] as number;
      }
    }
    for (let target = rowStart + to * 3, end = rowStart + width * 3; target < end; target += 3) {
      out[target] = padRed;
      out[target + 1] = padGreen;
      out[target + 2] = padBlue;
    }
  }
  const erase = parameters.erase;
  if (erase) {
    for (let y = erase.top; y < erase.top + erase.height; y++) {
      out.fill(eraseValue, offset + (y * width + erase.left) * 3, offset + (y * width + erase.left + erase.width) * 3);
    }
  }
}
