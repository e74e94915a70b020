import { InvalidOptionError, createRandom } from '@vkd/core';
import type { Tracklet } from './types';

/** Options of {@link createIdentitySampler} (VKD teacher: 8×4, student: 12×4). */
export interface IdentitySamplerOptions {
  /** P: identities per batch. */
  readonly identitiesPerBatch: number;
  /** K: tracklets per identity. */
  readonly instancesPerIdentity: number;
  /** Seed (default 0). */
  readonly seed?: number;
}

/** Checkpointable sampler state: the next epoch to produce. */
export interface IdentitySamplerState {
  readonly epoch: number;
}

/** P×K batches of tracklet indices, epoch after epoch. */
export interface IdentitySampler {
  /** Batches per epoch: floor(#identities / P) (the remainder is dropped, as VKD does). */
  readonly batchesPerEpoch: number;
  /** P·K. */
  readonly batchSize: number;
  /** The batches of epoch `epoch` (pure: the same epoch always gives the same batches). */
  batchesForEpoch(epoch: number): number[][];
  /** The batches of the next epoch, then advances. */
  nextEpoch(): number[][];
  /** State to store in a checkpoint. */
  state(): IdentitySamplerState;
  /** Continues from a stored state. */
  restore(state: IdentitySamplerState): void;
}

/**
 * P×K identity sampler (VKD `data/samplers.py`): each epoch shuffles the identities and yields floor(I/P) batches;
 * every identity appears at most once per epoch; for each identity K tracklets are drawn without replacement when
 * it has at least K, else with replacement. Each batch lists P·K indices into `tracklets`, identity by identity.
 * Every epoch's randomness derives from (seed, epoch), so state is just the epoch number.
 * @throws InvalidOptionError for non-positive P/K or when fewer than P identities exist.
 */
export function createIdentitySampler(
  tracklets: readonly Pick<Tracklet, 'identity'>[],
  options: IdentitySamplerOptions,
  state?: IdentitySamplerState,
): IdentitySampler {
  const { identitiesPerBatch, instancesPerIdentity } = options;
  const seed = options.seed ?? 0;
  for (const [name, value] of [
    ['identitiesPerBatch', identitiesPerBatch],
    ['instancesPerIdentity', instancesPerIdentity],
  ] as const) {
    if (!Number.isInteger(value) || value < 1)
      throw new InvalidOptionError(`createIdentitySampler.${name}`, value, 'Use an integer ≥ 1.');
  }
  const byIdentity = new Map<number, number[]>();
  tracklets.forEach((tracklet, index) => {
    const list = byIdentity.get(tracklet.identity) ?? [];
    list.push(index);
    byIdentity.set(tracklet.identity, list);
  });
  const identities = [...byIdentity.keys()].sort((a, b) => a - b);
  if (identities.length < identitiesPerBatch) {
    throw new InvalidOptionError(
      'createIdentitySampler.identitiesPerBatch',
      identitiesPerBatch,
      `Only ${identities.length} identities are available; use at most ${identities.length}.`,
    );
  }
  const batchesPerEpoch = Math.floor(identities.length / identitiesPerBatch);
  let epoch = state?.epoch ?? 0;
  const batchesForEpoch = (target: number): number[][] => {
    const random = createRandom(mixSeed(seed, target));
    const order = random.shuffle([...identities]);
    return Array.from({ length: batchesPerEpoch }, (_, batch) =>
      order.slice(batch * identitiesPerBatch, (batch + 1) * identitiesPerBatch).flatMap((identity) => {
        const candidates = byIdentity.get(identity) as number[];
        if (candidates.length >= instancesPerIdentity)
          return random.shuffle([...candidates]).slice(0, instancesPerIdentity);
        return Array.from(
          { length: instancesPerIdentity },
          () => candidates[random.integer(candidates.length)] as number,
        );
      }),
    );
  };
  return {
    batchesPerEpoch,
    batchSize: identitiesPerBatch * instancesPerIdentity,
    batchesForEpoch,
    nextEpoch: () => batchesForEpoch(epoch++),
    state: () => ({ epoch }),
    restore(saved) {
      if (!Number.isInteger(saved?.epoch) || saved.epoch < 0)
        throw new InvalidOptionError(
          'IdentitySampler.restore(state).epoch',
          saved?.epoch,
          'Pass a state returned by sampler.state().',
        );
      epoch = saved.epoch;
    },
  };
}

/** Combines a seed and a counter into a well-mixed 32-bit seed (splitmix-style). */
export function mixSeed(seed: number, counter: number): number {
  let value = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(counter + 1, 0x85ebca6b)) >>> 0;
  value = Math.imul(value ^ (value >>> 16), 0x7feb352d) >>> 0;
  value = Math.imul(value ^ (value >>> 15), 0x846ca68b) >>> 0;
  return (value ^ (value >>> 16)) >>> 0;
}
