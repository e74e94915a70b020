import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRandom, DatasetFormatError, InvalidOptionError } from '@vkd/core';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { CorruptImageError, IMAGENET_MEAN, IMAGENET_STD } from '../src/index';
import { applyAugmentation, decodeImage, drawAugmentation, readImage, validateAugmentation } from '../src/node';
import { isPlainJpeg } from '../src/pipeline/wasm-jpeg';
import { resizeBicubicPillow } from '../src/pillow-resize';
import { temporaryFolder, writeImage } from './helpers';

const fixtures = fileURLToPath(new URL('../../../tools/fixtures/datasets/', import.meta.url));
interface Reference {
  source: [number, number];
  outputs: Record<string, number[]>;
  jpeg: { decoded: number[]; torchvision: number[] };
}
const reference = async (): Promise<Reference> =>
  JSON.parse(await readFile(join(fixtures, 'resize-reference.json'), 'utf8'));

function formulaImage(height: number, width: number): Uint8Array {
  const pixels = new Uint8Array(height * width * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++)
      pixels.set([(x * 37 + y * 11) % 256, (x * 5 + y * 23 + 40) % 256, ((x ^ y) * 9) % 256], (y * width + x) * 3);
  }
  return pixels;
}

const normalised = (value: number, channel: number) =>
  (value / 255 - (IMAGENET_MEAN[channel] as number)) / (IMAGENET_STD[channel] as number);

describe('resize and decode parity with PIL / torchvision (tools/fixtures/datasets/resize_reference.py)', () => {
  it('resizeBicubicPillow is bit-identical to PIL BICUBIC when enlarging, shrinking and at odd sizes', async () => {
    const { source, outputs } = await reference();
    const pixels = formulaImage(source[0], source[1]);
    for (const [size, expected] of Object.entries(outputs)) {
      const [height, width] = size.split('x').map(Number) as [number, number];
      expect(Array.from(resizeBicubicPillow(pixels, source[0], source[1], height, width)), size).toEqual(expected);
    }
  });

  it('readImage reproduces PIL decode + torchvision Resize(interpolation=3) → ToTensor → Normalize', async () => {
    const { jpeg } = await reference();
    const decoded = await decodeImage(join(fixtures, 'frame.jpg'), { height: 40, width: 20 });
    expect(Array.from(decoded.data)).toEqual(jpeg.decoded); // same baseline IDCT (islow) in libjpeg-turbo and libvips
    const frame = await readImage(join(fixtures, 'frame.jpg'), { height: 48, width: 24 });
    expect(frame.data).toHaveLength(48 * 24 * 3);
    const worst = Math.max(
      ...Array.from(frame.data, (value, index) => Math.abs(value - (jpeg.torchvision[index] as number))),
    );
    expect(worst).toBeLessThan(1e-5); // float32 rounding only
  });
});

describe('readImage', () => {
  it('normalises exactly with ImageNet mean/std, or scales to 0..1', async () => {
    const folder = await temporaryFolder();
    const path = join(folder, 'solid.png');
    await writeImage(path, [200, 100, 50], [6, 4]);
    const frame = await readImage(path, { height: 6, width: 4 });
    expect([frame.height, frame.width, frame.data.length]).toEqual([6, 4, 72]);
    expect(frame.data[0]).toBeCloseTo(normalised(200, 0), 6);
    expect(frame.data[1]).toBeCloseTo(normalised(100, 1), 6);
    expect(frame.data[71]).toBeCloseTo(normalised(50, 2), 6);
    const unit = await readImage(path, { height: 6, width: 4, normalize: false });
    expect(unit.data[0]).toBeCloseTo(200 / 255, 6);
  });

  it('converts grey and RGBA images to RGB and resizes with either mode', async () => {
    const folder = await temporaryFolder();
    const grey = join(folder, 'grey.png');
    await sharp({ create: { width: 10, height: 20, channels: 3, background: { r: 90, g: 90, b: 90 } } })
      .toColourspace('b-w')
      .png()
      .toFile(grey);
    const rgba = join(folder, 'rgba.png');
    await sharp({ create: { width: 10, height: 20, channels: 4, background: { r: 10, g: 20, b: 30, alpha: 1 } } })
      .png()
      .toFile(rgba);
    for (const resize of ['pillow', 'sharp'] as const) {
      const greyFrame = await decodeImage(grey, { height: 8, width: 4, resize });
      expect(Array.from(greyFrame.data.slice(0, 3))).toEqual([90, 90, 90]);
      const rgbaFrame = await decodeImage(rgba, { height: 8, width: 4, resize });
      expect(Array.from(rgbaFrame.data.slice(0, 3))).toEqual([10, 20, 30]);
    }
  });

  it('missing, corrupt and truncated files → DatasetFormatError naming the file', async () => {
    const folder = await temporaryFolder();
    const good = join(folder, 'good.jpg');
    await sharp({ create: { width: 32, height: 64, channels: 3, background: { r: 1, g: 2, b: 3 } } })
      .jpeg()
      .toFile(good);
    const truncated = join(folder, 'truncated.jpg');
    const bytes = await readFile(good);
    await writeFile(truncated, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    const garbage = join(folder, 'garbage.jpg');
    await writeFile(garbage, 'hello');
    for (const [path, message] of [
      [join(folder, 'missing.jpg'), /does not exist/],
      [truncated, /corrupt or truncated/],
      [garbage, /corrupt or truncated/],
    ] as const) {
      const error = await readImage(path).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(DatasetFormatError);
      expect((error as DatasetFormatError).file).toBe(path);
      expect((error as Error).message).toMatch(message);
      // A corrupt file is a CorruptImageError carrying the decoder's message (applications word their own advice);
      // the library's message keeps advising the loader options.
      expect(CorruptImageError.isInstance(error), path).toBe(path !== join(folder, 'missing.jpg'));
      if (CorruptImageError.isInstance(error)) {
        expect(error.name).toBe('CorruptImageError');
        expect(error.message).toContain(
          `cannot decode image (${error.decoderMessage}). The file is corrupt or truncated: replace it, or load the dataset with validateFrames: true, onBadFrame: "skip".`,
        );
      }
    }
    await expect(readImage(good, { height: 0 })).rejects.toThrow(InvalidOptionError);
    await expect(readImage(good, { resize: 'box' as 'sharp' })).rejects.toThrow(/Use "pillow", "sharp" or "letterbox"/);
  });

  it('an image over sharp\'s pixel limit is named as such (limitInputPixels, downscale), not "corrupt or truncated"', async () => {
    const folder = await temporaryFolder();
    const huge = join(folder, 'huge.jpg');
    await writeFile(huge, await jpegClaiming(20_000, 20_000));
    const error = await readImage(huge, { height: 8, width: 4 }).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(DatasetFormatError);
    expect(CorruptImageError.isInstance(error)).toBe(false);
    expect((error as DatasetFormatError).file).toBe(huge);
    expect((error as Error).message).toMatch(/limitInputPixels \(268,402,689, i\.e\. 16383×16383\)/);
    expect((error as Error).message).toMatch(/not corrupt: downscale it/);
    expect((error as Error).message).not.toMatch(/corrupt or truncated/);
    // Never decoded in WebAssembly first (that path once took 3.2 GB for this file before sharp refused it).
    expect(isPlainJpeg(await jpegClaiming(20_000, 20_000))).toBe(false);
    expect(isPlainJpeg(await jpegClaiming(16_383, 16_383))).toBe(true);
  });
});

/** A valid small JPEG whose frame header (SOF) claims `width`×`height`: sharp checks the pixel limit on the header. */
async function jpegClaiming(width: number, height: number): Promise<Buffer> {
  const bytes = Buffer.from(
    await sharp({ create: { width: 16, height: 16, channels: 3, background: '#808080' } })
      .jpeg()
      .toBuffer(),
  );
  for (let at = 0; at < bytes.length - 9; at++) {
    if (bytes[at] === 0xff && (bytes[at + 1] === 0xc0 || bytes[at + 1] === 0xc2)) {
      bytes.writeUInt16BE(height, at + 5);
      bytes.writeUInt16BE(width, at + 7);
      return bytes;
    }
  }
  throw new Error('no SOF marker in the JPEG');
}

describe('augmentation (pad 10 → random crop → flip → normalise → random erasing)', () => {
  // 2×3 image, pixel value encodes (y, x): byte = 10·y + x + 1 on every channel
  const pixels = Uint8Array.from(
    { length: 18 },
    (_, index) => 10 * Math.floor(index / 9) + Math.floor((index % 9) / 3) + 1,
  );
  const red = (byte: number) => normalised(byte, 0);

  it('crop offsets shift the image and pad with black; flip mirrors; erasing writes the fill value', () => {
    const out = new Float32Array(18);
    // crop at (top 10, left 11) of the image padded by 10: output x reads source x + 1
    applyAugmentation(pixels, 2, 3, { cropTop: 10, cropLeft: 11, flip: false }, 10, out, 0);
    expect([out[0], out[3], out[6]].map((v) => v as number)).toEqual(
      [red(2), red(3), red(0)].map((v) => Math.fround(v)),
    );
    applyAugmentation(pixels, 2, 3, { cropTop: 9, cropLeft: 10, flip: true }, 10, out, 0);
    // row 0 comes from source row −1 (padding); row 1 from source row 0, mirrored: x=0 ← source x=2
    expect(out[0]).toBeCloseTo(red(0), 6);
    expect([out[9], out[12], out[15]]).toEqual([red(3), red(2), red(1)].map((v) => Math.fround(v)));
    applyAugmentation(
      pixels,
      2,
      3,
      { cropTop: 10, cropLeft: 10, flip: false, erase: { top: 1, left: 1, height: 1, width: 2 } },
      10,
      out,
      0,
      0,
    );
    expect(Array.from(out.slice(12, 18))).toEqual([0, 0, 0, 0, 0, 0]);
    expect(out[9]).toBeCloseTo(red(11), 6);
  });

  it('draws VKD parameter ranges: crop 0..20, flip ≈ 50 %, erasing ≈ 50 % with area 2–40 % and aspect 0.3–3.3', () => {
    const options = validateAugmentation();
    const random = createRandom(11);
    let flips = 0;
    let erased = 0;
    const crops = new Set<number>();
    for (let trial = 0; trial < 2000; trial++) {
      const drawn = drawAugmentation(random, 256, 128, options);
      crops.add(drawn.cropTop).add(drawn.cropLeft);
      if (drawn.flip) flips++;
      if (drawn.erase) {
        erased++;
        const { top, left, height, width } = drawn.erase;
        expect(top + height).toBeLessThanOrEqual(256);
        expect(left + width).toBeLessThanOrEqual(128);
        expect(height * width).toBeGreaterThanOrEqual(0.02 * 256 * 128 * 0.8);
        expect(height * width).toBeLessThanOrEqual(0.4 * 256 * 128 * 1.2);
        expect(height / width).toBeGreaterThan(0.25);
        expect(height / width).toBeLessThan(3.6);
      }
    }
    expect(Math.min(...crops)).toBe(0);
    expect(Math.max(...crops)).toBe(20);
    expect(flips / 2000).toBeGreaterThan(0.45);
    expect(flips / 2000).toBeLessThan(0.55);
    expect(erased / 2000).toBeGreaterThan(0.42); // p = 0.5 minus attempts that never fit
    expect(erased / 2000).toBeLessThan(0.55);
  });

  it('rejects bad augmentation options', () => {
    expect(() => validateAugmentation({ padding: -1 })).toThrow(/padding/);
    expect(() => validateAugmentation({ flipProbability: 2 })).toThrow(/flipProbability/);
    expect(() => validateAugmentation({ erasing: { area: [0.5, 0.1] } })).toThrow(/area/);
    expect(() => validateAugmentation({ erasing: { aspect: [0, 1] } })).toThrow(/aspect/);
    expect(validateAugmentation({ erasing: false }).erasing).toBe(false);
  });
});
