import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DatasetFormatError, InvalidOptionError } from '@vkd/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { chunkFirstFrameIndices, IMAGENET_MEAN, IMAGENET_STD } from '../src/index';
import type { Tracklet } from '../src/index';
import { createConcurrencyLimit } from '../src/concurrency-limit';
import {
  createEvaluationLoader,
  createTrackletLoader,
  type TrackletBatch,
  type TrackletLoaderOptions,
} from '../src/node';
import { temporaryFolder, writeImage } from './helpers';

const H = 8;
const W = 4;
const FRAME = H * W * 3;
/** Frame f of tracklet t is a solid PNG with red = 20·t + f (exact after decoding). */
const redOf = (tracklet: number, frame: number) => 20 * tracklet + frame;
const lengths = [5, 3, 10, 2, 4];
const identities = [3, 3, 1, 1, 2];

async function collect(options: TrackletLoaderOptions): Promise<TrackletBatch[]> {
  const batches: TrackletBatch[] = [];
  for await (const batch of createTrackletLoader(options)) batches.push(batch);
  return batches;
}

/** Recovers the red byte of sample b, step t from a non-augmented batch. */
function redAt(batch: TrackletBatch, sample: number, step: number): number {
  const value = batch.frames[(sample * batch.shape[1] + step) * FRAME] as number;
  return Math.round((value * (IMAGENET_STD[0] as number) + (IMAGENET_MEAN[0] as number)) * 255) + 0; // + 0 turns −0 into 0
}

describe('createTrackletLoader', () => {
  let tracklets: Tracklet[];
  beforeAll(async () => {
    const root = await temporaryFolder();
    tracklets = await Promise.all(
      lengths.map(async (length, t) => {
        const frames = Array.from({ length }, (_, f) => join(root, `t${t}`, `f${f}.png`));
        await Promise.all(frames.map((path, f) => writeImage(path, [redOf(t, f), 7 * f, 100], [H, W])));
        return { frames, identity: identities[t] as number, camera: t % 2 };
      }),
    );
  });

  it("'chunk-first' batches: shape [B, T, H, W, 3], ImageNet-normalised, labels and indices", async () => {
    const batches = await collect({
      tracklets,
      batches: [[0, 2], [4]],
      framesPerTracklet: 4,
      strategy: 'chunk-first',
      imageSize: [H, W],
      augment: false,
    });
    expect(batches.map((batch) => batch.shape)).toEqual([
      [2, 4, H, W, 3],
      [1, 4, H, W, 3],
    ]);
    const [first] = batches as [TrackletBatch];
    expect(first.frames).toHaveLength(2 * 4 * FRAME);
    expect(Array.from(first.identities)).toEqual([3, 1]);
    expect(Array.from(first.cameras)).toEqual([0, 0]);
    expect(Array.from(first.trackletIndices)).toEqual([0, 2]);
    expect([0, 1, 2, 3].map((step) => redAt(first, 0, step))).toEqual(
      chunkFirstFrameIndices(5, 4).map((f) => redOf(0, f)),
    );
    expect([0, 1, 2, 3].map((step) => redAt(first, 1, step))).toEqual(
      chunkFirstFrameIndices(10, 4).map((f) => redOf(2, f)),
    );
    // green of tracklet 0 frame chunk-first[1] = 7·2 = 14, exactly normalised
    const green = first.frames[(0 * 4 + 1) * FRAME + 1] as number;
    expect(green).toBeCloseTo((14 / 255 - (IMAGENET_MEAN[1] as number)) / (IMAGENET_STD[1] as number), 5);
  });

  it("'multiview' takes each sample's frames from tracklets of its identity", async () => {
    const [batch] = (await collect({
      tracklets,
      batches: [[0, 3]],
      framesPerTracklet: 4,
      strategy: 'multiview',
      imageSize: [H, W],
      augment: false,
      seed: 3,
    })) as [TrackletBatch];
    const sourceTracklet = (red: number) => Math.floor(red / 20);
    const first = [0, 1, 2, 3].map((step) => sourceTracklet(redAt(batch, 0, step)));
    const second = [0, 1, 2, 3].map((step) => sourceTracklet(redAt(batch, 1, step)));
    expect(new Set(first)).toEqual(new Set([0, 1])); // identity 3 = tracklets 0 and 1, cycled
    expect(new Set(second)).toEqual(new Set([2, 3]));
  });

  it('is deterministic for a seed, whatever the concurrency and prefetch; another seed differs', async () => {
    const options = {
      tracklets,
      batches: [
        [0, 1],
        [2, 3],
        [4, 0],
      ],
      framesPerTracklet: 3,
      strategy: 'chunk',
      imageSize: [H, W],
      augment: true,
      seed: 5,
    } as const;
    const reference = await collect({ ...options, concurrency: 1, prefetch: 0 });
    const parallel = await collect({ ...options, concurrency: 6, prefetch: 3 });
    expect(parallel.map((batch) => batch.frames)).toEqual(reference.map((batch) => batch.frames));
    const other = await collect({ ...options, seed: 6 });
    expect(other[0]?.frames).not.toEqual(reference[0]?.frames);
    const values = reference[0]?.frames as Float32Array;
    expect(values.some((value) => value === 0)).toBe(true); // erasing or padding happened somewhere at p = 0.5 over 6 frames
  });

  it('accepts a dataset and split, and works with lazily produced batches', async () => {
    const dataset = {
      train: tracklets,
      query: [],
      gallery: tracklets.slice(0, 2),
    } as unknown as TrackletLoaderOptions['dataset'];
    function* lazy() {
      yield [1];
      yield [0];
    }
    const batches = await collect({
      dataset,
      split: 'gallery',
      batches: lazy(),
      framesPerTracklet: 2,
      strategy: 'chunk-first',
      imageSize: [H, W],
      augment: false,
    });
    expect(batches.map((batch) => Array.from(batch.trackletIndices))).toEqual([[1], [0]]);
    expect(batches.map((batch) => batch.batchIndex)).toEqual([0, 1]);
  });

  it("'all' needs batches of one tracklet and returns every frame", async () => {
    const [batch] = (await collect({
      tracklets,
      batches: [[2]],
      framesPerTracklet: 1,
      strategy: 'all',
      imageSize: [H, W],
      augment: false,
    })) as [TrackletBatch];
    expect(batch.shape).toEqual([1, 10, H, W, 3]);
    await expect(
      collect({
        tracklets,
        batches: [[2, 3]],
        framesPerTracklet: 1,
        strategy: 'all',
        imageSize: [H, W],
        augment: false,
      }),
    ).rejects.toThrow(/exactly one tracklet/);
  });

  it('a corrupt frame fails its batch with DatasetFormatError naming the file', async () => {
    const root = await temporaryFolder();
    const bad = join(root, 'bad.png');
    await writeFile(bad, 'broken');
    const broken = [...tracklets, { frames: [bad], identity: 9, camera: 0 }];
    const error = await collect({
      tracklets: broken,
      batches: [[0], [5]],
      framesPerTracklet: 2,
      strategy: 'chunk-first',
      imageSize: [H, W],
      augment: false,
    }).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(DatasetFormatError);
    expect((error as DatasetFormatError).file).toBe(bad);
  });

  it('rejects bad options with the option name', () => {
    const base = {
      tracklets,
      batches: [[0]],
      framesPerTracklet: 2,
      strategy: 'chunk',
      imageSize: [H, W],
      augment: false,
    } as const;
    expect(() => createTrackletLoader({ ...base, tracklets: undefined })).toThrow(/createTrackletLoader\.tracklets/);
    expect(() => createTrackletLoader({ ...base, imageSize: [0, 4] })).toThrow(/imageSize\.height/);
    expect(() => createTrackletLoader({ ...base, strategy: 'random' as 'chunk' })).toThrow(/strategy/);
    expect(() => createTrackletLoader({ ...base, framesPerTracklet: 0 })).toThrow(/framesPerTracklet/);
    expect(() => createTrackletLoader({ ...base, concurrency: 0 })).toThrow(InvalidOptionError);
    expect(() => createTrackletLoader({ ...base, prefetch: -1 })).toThrow(/prefetch/);
    expect(() => createTrackletLoader({ ...base, prefetch: 17 })).toThrow(/createTrackletLoader\.prefetch.*0\.\.16/);
    return expect(collect({ ...base, batches: [[7]] })).rejects.toThrow(/batches\[0\]\[0\].*0\.\.4/);
  });

  it('createEvaluationLoader: every tracklet in order, in groups, chunk-first, not augmented', async () => {
    const batches: TrackletBatch[] = [];
    for await (const batch of createEvaluationLoader(tracklets, {
      framesPerTracklet: 3,
      trackletsPerBatch: 2,
      imageSize: [H, W],
    })) {
      batches.push(batch);
    }
    expect(batches.map((batch) => Array.from(batch.trackletIndices))).toEqual([[0, 1], [2, 3], [4]]);
    expect(batches.map((batch) => batch.shape)).toEqual([
      [2, 3, H, W, 3],
      [2, 3, H, W, 3],
      [1, 3, H, W, 3],
    ]);
    // Exact red bytes: no augmentation, frames by the chunk-first rule.
    const [, second] = batches as [TrackletBatch, TrackletBatch];
    expect([0, 1, 2].map((step) => redAt(second, 0, step))).toEqual(
      chunkFirstFrameIndices(10, 3).map((f) => redOf(2, f)),
    );
    expect([0, 1, 2].map((step) => redAt(second, 1, step))).toEqual(
      chunkFirstFrameIndices(2, 3).map((f) => redOf(3, f)),
    );
    const options = { framesPerTracklet: 3, imageSize: [H, W] } as const;
    expect(() => createEvaluationLoader(tracklets, { ...options, trackletsPerBatch: 0 })).toThrow(
      /createEvaluationLoader\.trackletsPerBatch/,
    );
    expect(() => createEvaluationLoader(tracklets, { ...options, trackletsPerBatch: 1.5 })).toThrow(InvalidOptionError);
  });
});

describe('createConcurrencyLimit', () => {
  it('never runs more than the limit at once and runs everything', async () => {
    const limit = createConcurrencyLimit(3);
    let active = 0;
    let peak = 0;
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        limit(async () => {
          active++;
          peak = Math.max(peak, active);
          await new Promise((resolve) => setTimeout(resolve, 1 + (index % 3)));
          active--;
          return index;
        }),
      ),
    );
    expect(peak).toBe(3);
    expect(results).toEqual(Array.from({ length: 20 }, (_, index) => index));
  });
});
