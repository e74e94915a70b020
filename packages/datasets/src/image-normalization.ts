/** ImageNet channel means (RGB, 0..1), as torchvision `Normalize` in VKD. */
export const IMAGENET_MEAN: readonly [number, number, number] = [0.485, 0.456, 0.406];
/** ImageNet channel standard deviations (RGB). */
export const IMAGENET_STD: readonly [number, number, number] = [0.229, 0.224, 0.225];

/** Per-channel lookup tables byte → normalised value, so the per-pixel work is one table read. */
export const NORMALIZED_BYTE: readonly Float32Array[] = [0, 1, 2].map((channel) => {
  const table = new Float32Array(256);
  for (let value = 0; value < 256; value++)
    table[value] = (value / 255 - (IMAGENET_MEAN[channel] as number)) / (IMAGENET_STD[channel] as number);
  return table;
});

/** Same tables for plain 0..1 scaling (`normalize: false`). */
export const UNIT_BYTE: readonly Float32Array[] = [0, 1, 2].map(() => {
  const table = new Float32Array(256);
  for (let value = 0; value < 256; value++) table[value] = value / 255;
  return table;
});

/** Converts uint8 RGB `[H, W, 3]` into `out` (at `offset`) through the tables. */
export function bytesToFloat(
  pixels: Uint8Array,
  out: Float32Array,
  offset: number,
  tables: readonly Float32Array[],
): void {
  const [red, green, blue] = tables as [Float32Array, Float32Array, Float32Array];
  for (let i = 0; i < pixels.length; i += 3) {
    out[offset + i] = red[pixels[i] as number] as number;
    out[offset + i + 1] = green[pixels[i + 1] as number] as number;
    out[offset + i + 2] = blue[pixels[i + 2] as number] as number;
  }
}
