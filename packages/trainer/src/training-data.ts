import { InvalidOptionError } from '@vkd/core';
import {
  createIdentitySampler,
  mixSeed,
  type FrameStrategy,
  type IdentitySamplerState,
  type Tracklet,
} from '@vkd/datasets';
import type { BatchArrays } from './batch';
import type { EpochData } from './trainer';
import { AUTHORS_SEED } from './stage-defaults';

/** What {@link createTrainingData} asks its loader for: one epoch's batches of tracklet indices, to decode. */
export interface TrainingLoaderRequest {
  readonly tracklets: readonly Tracklet[];
  /** The epoch's P×K batches of indices into `tracklets`. */
  readonly batches: readonly (readonly number[])[];
  readonly framesPerTracklet: number;
  readonly strategy: FrameStrategy;
  /** `[H, W]`. */
  readonly imageSize: readonly [number, number];
  readonly augment: boolean;
  /** Seed of frame choice and augmentation for this epoch. */
  readonly seed: number;
}

/**
 * Decodes the batches of one epoch. In Node: `createTrackletLoader` of `@vkd/datasets/node` (sharp), e.g.
 * `(request) => createTrackletLoader({ ...request, augmentation, concurrency })`; the trainer itself decodes nothing.
 */
export type TrainingLoader<Batch extends BatchArrays> = (
  request: TrainingLoaderRequest,
) => AsyncIterable<Batch> | Iterable<Batch>;

/** Options of {@link createTrainingData}. */
export interface TrainingDataOptions<Batch extends BatchArrays = BatchArrays> {
  /** Turns each epoch's index batches into frame batches (see {@link TrainingLoader}). */
  loader: TrainingLoader<Batch>;
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
  /** Seed of sampling and augmentation (default `AUTHORS_SEED`, 1897). */
  seed?: number;
}

/** Epoch data for the trainer, with the identity sampler it draws from. */
export interface TrainingData<Batch extends BatchArrays = BatchArrays> extends EpochData<Batch> {
  /** Batches per epoch, floor(#identities / P). */
  readonly batchesPerEpoch: number;
  getState(): IdentitySamplerState;
  setState(state: unknown): void;
}

/**
 * P×K identity batches (`createIdentitySampler`) streamed through the loader with augmentation. Epoch e's
 * batches and augmentations derive from (seed, e), and the sampler's state (its next epoch) is saved in checkpoints,
 * so a resumed run sees exactly the batches an uninterrupted run would.
 * @throws InvalidOptionError for bad sampler/loader options (e.g. fewer identities than P).
 */
export function createTrainingData<Batch extends BatchArrays>(
  options: TrainingDataOptions<Batch>,
): TrainingData<Batch> {
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
      return options.loader({
        tracklets: options.tracklets,
        batches,
        framesPerTracklet: options.framesPerTracklet,
        strategy: options.strategy,
        imageSize: options.imageSize,
        augment: options.augment ?? true,
        // A different stream from the sampler's, and a new one every epoch.
        seed: mixSeed(mixSeed(seed, 0x5eed), epoch),
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
