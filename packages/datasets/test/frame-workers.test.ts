import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DatasetFormatError, InvalidOptionError } from '@vkd/core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CorruptImageError } from '../src/corrupt-image-error';
import type { Tracklet } from '../src/index';
import { createTrackletLoader, type TrackletBatch, type TrackletLoaderOptions } from '../src/node';
import { closeFrameWorkers, liveFrameWorkers } from '../src/pipeline/frame-worker-pool';
import { decodePlainJpeg, isPlainJpeg } from '../src/pipeline/wasm-jpeg';
import { temporaryFolder } from './helpers';

const H = 32;
const W = 16;

/** A textured frame (so that crops, flips and resizes change values): JPEG 4:2:0, 4:4:4, progressive, or PNG. */
async function writeTextured(path: string, seed: number, size: [number, number], format: string): Promise<void> {
  const [height, width] = size;
  const raw = Buffer.alloc(height * width * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 37 + seed * 91 + ((i / (width * 3)) | 0) * 11) & 255;
  const image = sharp(raw, { raw: { width, height, channels: 3 } });
  if (format === 'png') await image.png().toFile(path);
  else
    await image
      .jpeg({
        quality: 85,
        chromaSubsampling: format === '444' ? '4:4:4' : '4:2:0',
        progressive: format === 'progressive',
      })
      .toFile(path);
}

const byteEqual = (a: Float32Array, b: Float32Array) =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

async function collect(options: TrackletLoaderOptions): Promise<TrackletBatch[]> {
  const batches: TrackletBatch[] = [];
  for await (const batch of createTrackletLoader(options)) batches.push(batch);
  return batches;
}

describe('createTrackletLoader with frame workers', () => {
  let root: string;
  let tracklets: Tracklet[];
  const formats = ['420', '444', 'progressive', 'png'];
  beforeAll(async () => {
    root = await temporaryFolder();
    tracklets = await Promise.all(
      Array.from({ length: 6 }, async (_, t) => {
        const frames = await Promise.all(
          Array.from({ length: 5 }, async (_, f) => {
            const format = formats[(t + f) % formats.length] as string;
            const path = join(root, `t${t}f${f}.${format === 'png' ? 'png' : 'jpg'}`);
            // tracklets 0–2 native size, 3–5 enlarged from H/2×W/2 (the Pillow bicubic port runs in the workers)
            await writeTextured(path, t * 10 + f, t < 3 ? [H, W] : [H / 2, W / 2], format);
            return path;
          }),
        );
        return { frames, identity: t % 3, camera: t % 2 };
      }),
    );
  });
  afterAll(() => closeFrameWorkers());

  it('gives bit-identical batches with 0, 1 and 2 workers and any prefetch depth', async () => {
    const options = {
      tracklets,
      batches: [
        [0, 3],
        [1, 4],
        [2, 5],
        [5, 0],
      ],
      framesPerTracklet: 3,
      strategy: 'chunk',
      imageSize: [H, W],
      augment: true,
      seed: 11,
    } as const;
    const reference = await collect({ ...options, workers: 0, prefetch: 0 });
    for (const [workers, prefetch] of [
      [1, 0],
      [1, 2],
      [2, 1],
      [2, 3],
    ] as const) {
      const batches = await collect({ ...options, workers, prefetch });
      expect(batches.map((batch) => batch.batchIndex)).toEqual([0, 1, 2, 3]);
      batches.forEach((batch, index) => {
        expect(batch.frames.buffer).toBeInstanceOf(SharedArrayBuffer);
        expect(byteEqual(batch.frames, (reference[index] as TrackletBatch).frames), `workers ${workers}`).toBe(true);
      });
    }
    const unaugmented = { ...options, augment: false, strategy: 'chunk-first' } as const;
    const plain = await collect({ ...unaugmented, workers: 0 });
    (await collect({ ...unaugmented, workers: 2 })).forEach((batch, index) => {
      expect(byteEqual(batch.frames, (plain[index] as TrackletBatch).frames)).toBe(true);
    });
  });

  it('reports a corrupt or missing frame in a worker as the same typed error as on the calling thread', async () => {
    const good = tracklets[0]?.frames[0] as string;
    const truncated = join(root, 'truncated.jpg');
    const bytes = await readFile(good);
    await writeFile(truncated, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    const garbage = join(root, 'garbage.jpg');
    await writeFile(garbage, Buffer.concat([bytes.subarray(0, 4), Buffer.from('not a JPEG at all')]));
    const missing = join(root, 'missing.jpg');
    for (const [bad, corrupt] of [
      [truncated, true],
      [garbage, true],
      [missing, false],
    ] as const) {
      const broken = [...tracklets, { frames: [good, bad], identity: 9, camera: 0 }];
      const failure = async (workers: number) =>
        collect({
          tracklets: broken,
          batches: [[0], [6]],
          framesPerTracklet: 2,
          strategy: 'chunk-first',
          imageSize: [H, W],
          augment: false,
          workers,
        }).then(
          () => undefined,
          (caught: unknown) => caught as DatasetFormatError,
        );
      const inline = await failure(0);
      const threaded = await failure(2);
      expect(inline).toBeInstanceOf(DatasetFormatError);
      expect(threaded).toBeInstanceOf(DatasetFormatError);
      expect(threaded?.file).toBe(bad);
      expect(threaded?.name).toBe(inline?.name);
      expect(CorruptImageError.isInstance(threaded)).toBe(corrupt);
      // sharp's own wording varies from call to call, on any thread ("VipsJpeg: premature end of JPEG image" or
      // "Warning treated as error due to failOn setting"), so the message is compared around it
      const withoutDecoder = (error: DatasetFormatError | undefined) =>
        error?.message.replace(/cannot decode image \((.|\n)*\)\. /, 'cannot decode image (…). ');
      expect(withoutDecoder(threaded)).toBe(withoutDecoder(inline));
      expect(threaded?.message.startsWith(`${bad}: cannot decode image (`)).toBe(true);
    }
  });

  it('shares the workers between loaders and terminates them when closed', async () => {
    await closeFrameWorkers();
    const options = {
      tracklets,
      batches: [[0], [1], [2]],
      framesPerTracklet: 2,
      strategy: 'chunk',
      imageSize: [H, W],
      augment: true,
      workers: 2,
    } as const;
    for await (const _ of createTrackletLoader(options)) break; // closed after one batch
    expect(liveFrameWorkers()).toBe(2); // kept for the next loader (epoch) …
    await collect(options);
    expect(liveFrameWorkers()).toBe(2); // … which reuses them
    await closeFrameWorkers();
    expect(liveFrameWorkers()).toBe(0);
  });

  it('rejects a bad worker count with the option name', () => {
    const base = { tracklets, batches: [[0]], framesPerTracklet: 2, strategy: 'chunk', imageSize: [H, W] } as const;
    for (const workers of [-1, 1.5, 1000])
      expect(() => createTrackletLoader({ ...base, augment: false, workers })).toThrow(InvalidOptionError);
    expect(() => createTrackletLoader({ ...base, augment: false, workers: -1 })).toThrow(
      /createTrackletLoader\.workers/,
    );
  });

  it('never keeps the process alive: a script whose loader is closed, and one abandoned mid-epoch, exit at once', () => {
    const loader = fileURLToPath(new URL('../src/node.ts', import.meta.url));
    const frames = JSON.stringify(tracklets[0]?.frames);
    for (const ending of ['closed', 'abandoned']) {
      const script = [
        `import { createTrackletLoader } from ${JSON.stringify(loader)};`,
        `const tracklets = [{ frames: ${frames}, identity: 0, camera: 0 }];`,
        `const loader = createTrackletLoader({ tracklets, batches: [[0], [0], [0], [0]], framesPerTracklet: 4,`,
        `  strategy: 'chunk', imageSize: [${H}, ${W}], augment: true, workers: 2, prefetch: 2 });`,
        ending === 'closed'
          ? 'for await (const batch of loader) { console.log(batch.shape.join("x")); break; }'
          : 'const iterator = loader[Symbol.asyncIterator](); console.log((await iterator.next()).value.shape.join("x"));',
      ].join('\n');
      const started = Date.now();
      const child = spawnSync(
        process.execPath,
        ['--import', 'tsx', '--conditions=@vkd/source', '--input-type=module', '-e', script],
        {
          encoding: 'utf8',
          timeout: 30_000,
        },
      );
      expect(child.stderr, ending).toBe('');
      expect(child.stdout.trim(), ending).toBe(`1x4x${H}x${W}x3`);
      expect(child.status, ending).toBe(0);
      // no wait for the pool's 2 s idle timer nor for the prefetched batches' workers
      expect(Date.now() - started, ending).toBeLessThan(10_000);
    }
  });
});

describe('WebAssembly JPEG decoding', () => {
  it('decodes plain JPEGs to the same bytes as sharp, and leaves other files to sharp', async () => {
    const root = await temporaryFolder();
    for (const format of ['420', '444', 'progressive']) {
      const path = join(root, `${format}.jpg`);
      await writeTextured(path, 3, [40, 24], format);
      const bytes = await readFile(path);
      expect(isPlainJpeg(bytes), format).toBe(true);
      const decoded = await decodePlainJpeg(bytes);
      const reference = await sharp(path).raw().toBuffer();
      expect(decoded && Buffer.from(decoded.data).equals(reference), format).toBe(true);
    }
    const fixture = fileURLToPath(new URL('../../../tools/fixtures/datasets/frame.jpg', import.meta.url));
    expect(isPlainJpeg(await readFile(fixture))).toBe(true); // the PIL parity fixture takes the WebAssembly path
    const png = join(root, 'frame.png');
    await writeTextured(png, 1, [8, 4], 'png');
    expect(isPlainJpeg(await readFile(png))).toBe(false);
    const jpeg = await readFile(join(root, '420.jpg'));
    expect(isPlainJpeg(jpeg.subarray(0, jpeg.length - 100))).toBe(false); // truncated: no EOI
    const withIcc = await sharp(join(root, '420.jpg')).withIccProfile('p3').jpeg().toBuffer();
    expect(isPlainJpeg(withIcc)).toBe(false); // sharp applies an embedded profile; leave it to sharp
  });

  it('returns undefined (sharp decides) when libjpeg warns', async () => {
    const root = await temporaryFolder();
    const path = join(root, 'a.jpg');
    await writeTextured(path, 2, [64, 32], '420');
    const bytes = await readFile(path);
    // cut in the entropy-coded data but keep an EOI, so only the decoder can tell
    const cut = Buffer.concat([bytes.subarray(0, Math.floor(bytes.length * 0.7)), Buffer.from([0xff, 0xd9])]);
    expect(isPlainJpeg(cut)).toBe(true);
    expect(await decodePlainJpeg(cut)).toBeUndefined();
    expect(await decodePlainJpeg(bytes)).toBeDefined(); // the decoder still works after a failure
  });
});
