import { availableParallelism } from 'node:os';
import { InvalidOptionError, createRandom } from '@vkd/core';
import {
  drawAugmentation,
  validateAugmentation,
  type AugmentationOptions,
  type AugmentationParameters,
} from '../augmentation';
import { createConcurrencyLimit } from '../concurrency-limit';
import { FRAME_STRATEGIES, groupByIdentity, selectFrames, type FrameRef, type FrameStrategy } from '../frame-sampler';
import { mixSeed } from '../identity-sampler';
import type { ReidDataset, Tracklet } from '../types';
import { loadFrameInto, type FrameJob, type FrameSettings } from './frame-job';
import { acquireFrameWorkerPool, type FrameWorkerPool } from './frame-worker-pool';
import { validateImageSize, type ReadImageOptions } from './read-image';

/**
 * Frame workers of a loader by default: all cores but one, which is left to the consumer (the training step), and at
 * least one.
 */
export const DEFAULT_LOADER_WORKERS = Math.max(1, availableParallelism() - 1);

/** Most frame worker threads a loader takes (`workers`). */
export const MAX_LOADER_WORKERS = 256;

/** Batches a loader prepares ahead of its consumer by default (`prefetch`). */
export const DEFAULT_LOADER_PREFETCH = 2;

/**
 * Most batches a loader prepares ahead (`prefetch`): each holds its frames in memory (a MARS teacher batch at 256×128
 * is ~100 MB), and more than a few hide no more of the step's time.
 */
export const MAX_LOADER_PREFETCH = 16;

/** One batch of tracklets. */
export interface TrackletBatch {
  /**
   * `[B, T, H, W, 3]` float32, ImageNet-normalised RGB. With frame workers (`workers` ≥ 1) it is backed by a
   * SharedArrayBuffer (the workers write into it; no copy).
   */
  readonly frames: Float32Array;
  readonly shape: readonly [number, number, number, number, number];
  /** `[B]` identities of the anchor tracklets (train: 0..I-1). */
  readonly identities: Int32Array;
  /** `[B]` 0-based cameras of the anchor tracklets. */
  readonly cameras: Int32Array;
  /** `[B]` indices of the anchor tracklets in the source list. */
  readonly trackletIndices: Int32Array;
  /** 0-based position of this batch in `batches`. */
  readonly batchIndex: number;
}

/** Options of {@link createTrackletLoader}. */
export interface TrackletLoaderOptions {
  /** Source tracklets: `tracklets`, or `dataset` + `split` (default `'train'`). */
  readonly dataset?: ReidDataset;
  readonly split?: 'train' | 'query' | 'gallery';
  readonly tracklets?: readonly Tracklet[];
  /** Batches of tracklet indices, e.g. `sampler.nextEpoch()` or chunks of `0..N-1` for evaluation. */
  readonly batches: Iterable<readonly number[]>;
  /** T: frames per tracklet (ignored by `'all'`, which needs batches of one tracklet). */
  readonly framesPerTracklet: number;
  /** Frame strategy (`'chunk'` train, `'chunk-first'` test, `'multiview'` distillation, `'all'`). */
  readonly strategy: FrameStrategy;
  /** `[H, W]` (VKD: `[256, 128]` persons, `[224, 224]` vehicles and tigers). */
  readonly imageSize: readonly [number, number];
  /** Train augmentation (pad + crop, flip, random erasing); `false` = resize + normalise only. */
  readonly augment: boolean;
  /** Augmentation parameters (defaults: VKD persons; vehicles use `erasing: { aspect: [0.7, 1.4] }`). */
  readonly augmentation?: AugmentationOptions;
  /** Seed for frame choice and augmentation (default 0); batch `b` uses (seed, b), so results do not depend on timing. */
  readonly seed?: number;
  /**
   * Frame worker threads that decode, resize, augment and normalise (default {@link DEFAULT_LOADER_WORKERS}); each
   * holds two frames at once (one decoding on the libuv pool while it augments the other). `0`: everything on the
   * calling thread, decodes on the libuv pool (`concurrency`). Results are bit-identical for any value.
   */
  readonly workers?: number;
  /**
   * With `workers: 0`: images decoded at once on the libuv pool (default `min(UV_THREADPOOL_SIZE or 4, 2·cores)`).
   * Ignored with workers.
   */
  readonly concurrency?: number;
  /** Batches prepared ahead of the consumer, while it works on the current one (default {@link DEFAULT_LOADER_PREFETCH}). */
  readonly prefetch?: number;
  /** Resizing of frames that are not H×W: `'pillow'` (default, bit-identical to VKD) or `'sharp'` (faster). */
  readonly resize?: ReadImageOptions['resize'];
}

interface PlannedBatch {
  readonly index: number;
  readonly anchors: readonly number[];
  readonly frames: readonly FrameRef[][];
  readonly augmentations?: readonly AugmentationParameters[][];
}

/**
 * Streams batches of decoded, augmented tracklets `[B, T, H, W, 3]`. Frame choice and augmentation of batch `b` are
 * drawn from (seed, b) on the calling thread before decoding; frames are then decoded (sharp), resized, augmented and
 * normalised by `workers` worker threads, `prefetch` batches ahead, so decoding overlaps training. The workers are
 * shared by the loaders of the process (the next epoch reuses them); they terminate 2 s after the last iteration
 * ends (done, `break`, or an error), and idle workers never keep the process alive, so an iterator abandoned
 * mid-epoch does not hang it.
 * @throws InvalidOptionError for bad options or indices; DatasetFormatError naming a frame that cannot be decoded.
 */
export function createTrackletLoader(options: TrackletLoaderOptions): AsyncIterable<TrackletBatch> {
  const tracklets = options.tracklets ?? options.dataset?.[options.split ?? 'train'];
  if (!tracklets)
    throw new InvalidOptionError(
      'createTrackletLoader.tracklets',
      undefined,
      'Pass `tracklets` or `dataset` (+ `split`).',
    );
  const [height, width] = options.imageSize ?? [];
  validateImageSize(height as number, width as number, 'createTrackletLoader.imageSize');
  if (!FRAME_STRATEGIES.includes(options.strategy)) {
    throw new InvalidOptionError(
      'createTrackletLoader.strategy',
      options.strategy,
      `Use one of ${FRAME_STRATEGIES.join(', ')}.`,
    );
  }
  const framesPerTracklet = options.framesPerTracklet;
  if (!Number.isInteger(framesPerTracklet) || framesPerTracklet < 1)
    throw new InvalidOptionError('createTrackletLoader.framesPerTracklet', framesPerTracklet, 'Use an integer ≥ 1.');
  const defaultConcurrency = Math.min(Number(process.env.UV_THREADPOOL_SIZE) || 4, 2 * availableParallelism());
  const concurrency = options.concurrency ?? defaultConcurrency;
  const prefetch = options.prefetch ?? DEFAULT_LOADER_PREFETCH;
  const workers = options.workers ?? DEFAULT_LOADER_WORKERS;
  if (!Number.isInteger(workers) || workers < 0 || workers > MAX_LOADER_WORKERS)
    throw new InvalidOptionError(
      'createTrackletLoader.workers',
      workers,
      `Use an integer in 0..${MAX_LOADER_WORKERS} (0: no worker threads).`,
    );
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new InvalidOptionError('createTrackletLoader.concurrency', concurrency, 'Use an integer ≥ 1.');
  if (!Number.isInteger(prefetch) || prefetch < 0 || prefetch > MAX_LOADER_PREFETCH)
    throw new InvalidOptionError(
      'createTrackletLoader.prefetch',
      prefetch,
      `Use an integer in 0..${MAX_LOADER_PREFETCH} (every batch read ahead is held in memory).`,
    );
  const augmentation = options.augment ? validateAugmentation(options.augmentation) : undefined;
  const seed = options.seed ?? 0;
  const byIdentity = options.strategy === 'multiview' ? groupByIdentity(tracklets) : undefined;
  const limit = createConcurrencyLimit(concurrency);
  const frameSize = (height as number) * (width as number) * 3;
  const settings: FrameSettings = {
    height: height as number,
    width: width as number,
    resize: options.resize ?? 'pillow',
    padding: augmentation ? augmentation.padding : 0,
    eraseValue: augmentation?.erasing ? augmentation.erasing.value : 0,
  };

  const plan = (anchors: readonly number[], index: number): PlannedBatch => {
    const random = createRandom(mixSeed(seed, index));
    anchors.forEach((anchor, position) => {
      if (!Number.isInteger(anchor) || anchor < 0 || anchor >= tracklets.length) {
        throw new InvalidOptionError(
          `createTrackletLoader.batches[${index}][${position}]`,
          anchor,
          `Use tracklet indices in 0..${tracklets.length - 1}.`,
        );
      }
    });
    if (options.strategy === 'all' && anchors.length !== 1) {
      throw new InvalidOptionError(
        `createTrackletLoader.batches[${index}]`,
        anchors,
        'The "all" strategy needs batches of exactly one tracklet (lengths differ).',
      );
    }
    const frames = anchors.map((anchor) =>
      selectFrames(tracklets, anchor, options.strategy, framesPerTracklet, random, byIdentity),
    );
    const augmentations =
      augmentation &&
      frames.map((refs) => refs.map(() => drawAugmentation(random, height as number, width as number, augmentation)));
    return { index, anchors, frames, ...(augmentations ? { augmentations } : {}) };
  };

  const load = async (batch: PlannedBatch, pool: FrameWorkerPool | undefined): Promise<TrackletBatch> => {
    const steps = batch.frames[0]?.length ?? 0;
    const floats = batch.anchors.length * steps * frameSize;
    const shared = pool ? new SharedArrayBuffer(floats * Float32Array.BYTES_PER_ELEMENT) : undefined;
    const out = shared ? new Float32Array(shared) : new Float32Array(floats);
    await Promise.all(
      batch.frames.flatMap((refs, sample) =>
        refs.map((ref, step) => {
          const parameters = batch.augmentations?.[sample]?.[step];
          const job: FrameJob = {
            path: (tracklets[ref.tracklet] as Tracklet).frames[ref.frame] as string,
            offset: (sample * steps + step) * frameSize,
            ...(parameters ? { parameters } : {}),
          };
          return pool && shared ? pool.run(job, settings, shared) : limit(() => loadFrameInto(job, settings, out));
        }),
      ),
    );
    const anchorTracklets = batch.anchors.map((anchor) => tracklets[anchor] as Tracklet);
    return {
      frames: out,
      shape: [batch.anchors.length, steps, height as number, width as number, 3],
      identities: Int32Array.from(anchorTracklets, (t) => t.identity),
      cameras: Int32Array.from(anchorTracklets, (t) => t.camera),
      trackletIndices: Int32Array.from(batch.anchors),
      batchIndex: batch.index,
    };
  };

  return {
    async *[Symbol.asyncIterator]() {
      const iterator = options.batches[Symbol.iterator]();
      const queue: Promise<TrackletBatch>[] = [];
      const pool = workers > 0 ? acquireFrameWorkerPool(workers) : undefined;
      let index = 0;
      const fill = () => {
        while (queue.length <= prefetch) {
          const next = iterator.next();
          if (next.done) return;
          const batchIndex = index++;
          const pending = Promise.resolve().then(() => load(plan(next.value, batchIndex), pool));
          pending.catch(() => undefined); // handled when awaited; avoids unhandled rejections of prefetched batches
          queue.push(pending);
        }
      };
      try {
        fill();
        while (queue.length > 0) {
          const batch = await (queue.shift() as Promise<TrackletBatch>);
          fill();
          yield batch;
        }
      } finally {
        pool?.release();
      }
    },
  };
}
