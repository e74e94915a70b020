/**
 * A port of Pillow's bicubic resampling (`libImaging/Resample.c`: `precompute_coeffs`, `normalize_coeffs_8bpc`,
 * `ImagingResampleHorizontal_8bpc` / `Vertical`), so frames match `PIL.Image.resize((W, H), Image.BICUBIC)`, i.e.
 * VKD's `T.Resize((H, W), interpolation=3)`, exactly: Keys cubic with a = −0.5, support scaled by the reduction
 * factor (antialiasing), fixed-point weights with 22 fractional bits, horizontal pass first, uint8 in between.
 */
const PRECISION_BITS = 32 - 8 - 2;
const SUPPORT = 2;

function bicubic(value: number): number {
  const a = -0.5;
  const x = Math.abs(value);
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

interface Coefficients {
  readonly bounds: Int32Array; // [xmin, count] per output pixel
  readonly weights: Int32Array; // kernelSize per output pixel
  readonly kernelSize: number;
}

const cache = new Map<string, Coefficients>();

function coefficients(inSize: number, outSize: number): Coefficients {
  const key = `${inSize}/${outSize}`;
  const cached = cache.get(key);
  if (cached) return cached;
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = SUPPORT * filterScale;
  const kernelSize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const weights = new Int32Array(outSize * kernelSize);
  const floats = new Float64Array(kernelSize);
  for (let out = 0; out < outSize; out++) {
    const centre = (out + 0.5) * scale;
    const inverse = 1 / filterScale;
    const xmin = Math.max(Math.trunc(centre - support + 0.5), 0);
    const count = Math.min(Math.trunc(centre + support + 0.5), inSize) - xmin;
    let total = 0;
    for (let x = 0; x < count; x++) {
      const weight = bicubic((x + xmin - centre + 0.5) * inverse);
      floats[x] = weight;
      total += weight;
    }
    for (let x = 0; x < count; x++) {
      const weight = total === 0 ? 0 : (floats[x] as number) / total;
      weights[out * kernelSize + x] =
        weight < 0
          ? Math.trunc(-0.5 + weight * (1 << PRECISION_BITS))
          : Math.trunc(0.5 + weight * (1 << PRECISION_BITS));
    }
    bounds[out * 2] = xmin;
    bounds[out * 2 + 1] = count;
  }
  const result = { bounds, weights, kernelSize };
  cache.set(key, result);
  return result;
}

const SCALE = 1 / (1 << PRECISION_BITS);

function clip8(value: number): number {
  const shifted = Math.floor(value * SCALE);
  return shifted < 0 ? 0 : shifted > 255 ? 255 : shifted;
}

/**
 * Resizes uint8 RGB `[inHeight, inWidth, 3]` to `[outHeight, outWidth, 3]` exactly as Pillow's BICUBIC.
 * Returns the input unchanged when the size already matches.
 */
export function resizeBicubicPillow(
  pixels: Uint8Array,
  inHeight: number,
  inWidth: number,
  outHeight: number,
  outWidth: number,
): Uint8Array {
  let current = pixels;
  let width = inWidth;
  if (outWidth !== inWidth) {
    const { bounds, weights, kernelSize } = coefficients(inWidth, outWidth);
    const next = new Uint8Array(inHeight * outWidth * 3);
    for (let y = 0; y < inHeight; y++) {
      const rowIn = y * inWidth * 3;
      const rowOut = y * outWidth * 3;
      for (let x = 0; x < outWidth; x++) {
        const xmin = bounds[x * 2] as number;
        const count = bounds[x * 2 + 1] as number;
        let red = 1 << (PRECISION_BITS - 1);
        let green = red;
        let blue = red;
        for (let k = 0; k < count; k++) {
          const weight = weights[x * kernelSize + k] as number;
          const source = rowIn + (xmin + k) * 3;
          red += (current[source] as number) * weight;
          green += (current[source + 1] as number) * weight;
          blue += (current[source + 2] as number) * weight;
        }
        next[rowOut + x * 3] = clip8(red);
        next[rowOut + x * 3 + 1] = clip8(green);
        next[rowOut + x * 3 + 2] = clip8(blue);
      }
    }
    current = next;
    width = outWidth;
  }
  if (outHeight !== inHeight) {
    const { bounds, weights, kernelSize } = coefficients(inHeight, outHeight);
    const next = new Uint8Array(outHeight * width * 3);
    const stride = width * 3;
    const sums = new Float64Array(stride);
    for (let y = 0; y < outHeight; y++) {
      const ymin = bounds[y * 2] as number;
      const count = bounds[y * 2 + 1] as number;
      sums.fill(1 << (PRECISION_BITS - 1));
      for (let k = 0; k < count; k++) {
        const weight = weights[y * kernelSize + k] as number;
        const row = (ymin + k) * stride;
        for (let i = 0; i < stride; i++) sums[i] = (sums[i] as number) + (current[row + i] as number) * weight;
      }
      const rowOut = y * stride;
      for (let i = 0; i < stride; i++) next[rowOut + i] = clip8(sums[i] as number);
    }
    current = next;
  }
  return current;
}
