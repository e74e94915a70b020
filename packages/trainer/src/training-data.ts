import { InvalidOptionError } from '@vkd/core';
import { createIdentitySampler, mixSeed, type FrameStrategy, type IdentitySamplerState, type Tracklet } from '@vkd/datasets';
import { createTrackletLoader, type AugmentationOptions, type TrackletBatch } from '@vkd/datasets/node';
import type { EpochData } from './trainer';
import { AUTHORS_SEED } from './stage-defaults';

/** Options of {@link createTrainingData}. */
export interface TrainingDataOptions {
  /** Training tracklets (`dataset.train`), identities 0..I-1. */
  tracklets: readonly Tracklet[];
  /** P (teacher 8, student 12). */
  identitiesPerBatch: number;
  /** K (4). */
  instancesPerIdentity: number;
  /** N frames per tracklet (8; VeRi teacher 1). */
  framesPerTracklet: number;
  /** `'chunk'` (teacher) or `'multiview'` (VKD). */
  strategy: FrameStrategy;
  /** `[H, W]`. */
  imageSize: readonly [number, number];
  /** Train augmentation (default true: pad + crop, flip, random erasing). */
  augment?: boolean;
  /** Augmentation parameters (default: the authors' person settings; vehicles/tigers: `erasing: { aspect: [0.7, 1.4] }`). */
  augmentation?: AugmentationOptions;
  /** Seed of sampling and augmentation (default `AUTHORS_SEED`, 1897). */
  seed?: number;
  /** Passed to the loader. */
  concurrency?: number;
  prefetch?: number;
}

/** Epoch data for the trainer, with the identity sampler it draws from. */
export interface TrainingData extends EpochData<TrackletBatch> {
  /** Batches per epoch, floor(#identities / P). */
  readonly batchesPerEpoch: number;
  getState(): IdentitySamplerState;
  setState(state: unknown): void;
}

/**
 * P×K identity batches (`createIdentitySampler`) streamed through `createTrackletLoader` with augmentation. Epoch e's
 * batches and augmentations derive from (seed, e), and the sampler's state (its next epoch) is saved in checkpoints,
 * so a resumed run sees exactly the batches an uninterrupted run would.
 * @throws InvalidOptionError for bad sampler/loader options (e.g. fewer identities than P).
 */
export function createTrainingData(options: TrainingDataOptions): TrainingData {
  const seed = options.seed ?? AUTHORS_SEED;
  const sampler = createIdentitySampler(options.tracklets, {
    identitiesPerBatch: options.identitiesPerBatch,
    instancesPerIdentity: options.instancesPerIdentity,
    seed,
  });
  return {
    batchesPerEpoch: sampler.batchesPerEpoch,
    batches(epoch) {
      sampler.restore({ epoch });
      const batches = sampler.nextEpoch();
      return createTrackletLoader({
        tracklets: options.tracklets,
        batches,
        framesPerTracklet: options.framesPerTracklet,
        strategy: options.strategy,
        imageSize: options.imageSize,
        augment: options.augment ?? true,
        // A different stream from the sampler's, and a new one every epoch.
        seed: mixSeed(mixSeed(seed, 0x5eed), epoch),
        ...(options.augmentation === undefined ? {} : { augmentation: options.augmentation }),
        ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
        ...(options.prefetch === undefined ? {} : { prefetch: options.prefetch }),
      });
    },
    getState: () => sampler.state(),
    setState(state) {
      const epoch = (state as IdentitySamplerState | undefined)?.epoch;
      if (!(Number.isInteger(epoch) && (epoch as number) >= 0)) {
        throw new InvalidOptionError('training data state', state, 'Expected { epoch } as saved by getState().');
      }
      sampler.restore({ epoch: epoch as number });
    },
  };
}
