import { createRandom, InvalidOptionError } from '@vkd/core';
import { describe, expect, it } from 'vitest';
import {
  chunkFirstFrameIndices,
  chunkFrameIndices,
  createIdentitySampler,
  gatherViews,
  sampleStudentViews,
  selectFrames,
} from '../src/index';
import { groupByIdentity } from '../src/frame-sampler';

/** identity i has (i % 3) + 1 tracklets: identities 0..9 */
const tracklets = Array.from({ length: 10 }, (_, identity) =>
  Array.from({ length: (identity % 3) + 1 }, () => ({ identity, frames: ['a', 'b', 'c'], camera: 0 })),
).flat();

describe('createIdentitySampler (P×K)', () => {
  it('each identity at most once per epoch, P identities × K instances, remainder dropped', () => {
    const sampler = createIdentitySampler(tracklets, { identitiesPerBatch: 3, instancesPerIdentity: 2, seed: 1 });
    expect(sampler.batchesPerEpoch).toBe(3);
    expect(sampler.batchSize).toBe(6);
    const batches = sampler.nextEpoch();
    expect(batches).toHaveLength(3);
    const identitiesSeen: number[] = [];
    for (const batch of batches) {
      expect(batch).toHaveLength(6);
      for (let p = 0; p < 3; p++) {
        const group = batch.slice(2 * p, 2 * p + 2).map((index) => tracklets[index] as (typeof tracklets)[number]);
        expect(new Set(group.map((t) => t.identity)).size).toBe(1);
        identitiesSeen.push(group[0]?.identity as number);
        const available = tracklets.filter((t) => t.identity === group[0]?.identity).length;
        // without replacement when the identity has ≥ K tracklets
        if (available >= 2) expect(new Set(batch.slice(2 * p, 2 * p + 2)).size).toBe(2);
      }
    }
    expect(new Set(identitiesSeen).size).toBe(9);
  });

  it('draws with replacement when an identity has fewer than K tracklets', () => {
    const sampler = createIdentitySampler(tracklets, { identitiesPerBatch: 10, instancesPerIdentity: 4, seed: 2 });
    const [batch] = sampler.nextEpoch();
    const forIdentityZero = (batch as number[]).filter((index) => tracklets[index]?.identity === 0);
    expect(forIdentityZero).toEqual([0, 0, 0, 0]);
  });

  it('is deterministic per (seed, epoch), changes across epochs, and restores from state', () => {
    const options = { identitiesPerBatch: 3, instancesPerIdentity: 2, seed: 7 };
    const first = createIdentitySampler(tracklets, options);
    const epochs = [first.nextEpoch(), first.nextEpoch(), first.nextEpoch()];
    expect(epochs[1]).not.toEqual(epochs[0]);
    expect(first.state()).toEqual({ epoch: 3 });
    const resumed = createIdentitySampler(tracklets, options, { epoch: 1 });
    expect(resumed.nextEpoch()).toEqual(epochs[1]);
    const restored = createIdentitySampler(tracklets, options);
    restored.restore({ epoch: 2 });
    expect(restored.nextEpoch()).toEqual(epochs[2]);
    expect(createIdentitySampler(tracklets, { ...options, seed: 8 }).nextEpoch()).not.toEqual(epochs[0]);
  });

  it('rejects bad options', () => {
    expect(() => createIdentitySampler(tracklets, { identitiesPerBatch: 0, instancesPerIdentity: 2 })).toThrow(
      InvalidOptionError,
    );
    expect(() => createIdentitySampler(tracklets, { identitiesPerBatch: 11, instancesPerIdentity: 2 })).toThrow(
      /Only 10 identities/,
    );
    expect(() => createIdentitySampler(tracklets, { identitiesPerBatch: 2, instancesPerIdentity: 1.5 })).toThrow(
      /instancesPerIdentity/,
    );
    expect(() =>
      createIdentitySampler(tracklets, { identitiesPerBatch: 2, instancesPerIdentity: 1 }).restore({ epoch: -1 }),
    ).toThrow(/restore/);
  });
});

describe('frame strategies', () => {
  it("'chunk-first' matches VKD's TemporalChunkCrop examples", () => {
    expect(chunkFirstFrameIndices(10, 8)).toEqual([0, 2, 4, 6, 8, 9, 9, 9]);
    expect(chunkFirstFrameIndices(5, 8)).toEqual([0, 1, 2, 3, 4, 4, 4, 4]);
    expect(chunkFirstFrameIndices(64, 8)).toEqual([0, 8, 16, 24, 32, 40, 48, 56]);
    expect(chunkFirstFrameIndices(1, 3)).toEqual([0, 0, 0]);
  });

  it("'chunk' takes one index inside each chunk, covering padded positions", () => {
    const random = createRandom(3);
    const seen = Array.from({ length: 8 }, () => new Set<number>());
    for (let trial = 0; trial < 400; trial++) {
      chunkFrameIndices(10, 8, random).forEach((index, slot) => seen[slot]?.add(index));
    }
    // F = 10, N = 8 → chunk length 2; chunks [0,1],[2,3],[4,5],[6,7],[8,9],[9,9],[9,9],[9,9]
    expect(seen.map((set) => [...set].sort((a, b) => a - b))).toEqual([
      [0, 1],
      [2, 3],
      [4, 5],
      [6, 7],
      [8, 9],
      [9],
      [9],
      [9],
    ]);
    expect(chunkFrameIndices(3, 5, random)).toEqual([0, 1, 2, 2, 2]);
  });

  it("'multiview' takes frames from different tracklets of the identity, cycling when there are fewer", () => {
    const many = Array.from({ length: 5 }, (_, index) => ({
      identity: index < 4 ? 1 : 2,
      frames: ['x', 'y'],
      camera: index,
    }));
    const byIdentity = groupByIdentity(many);
    const random = createRandom(9);
    const refs = selectFrames(many, 2, 'multiview', 8, random, byIdentity);
    expect(refs).toHaveLength(8);
    const firstFour = refs.slice(0, 4).map((ref) => ref.tracklet);
    expect(new Set(firstFour)).toEqual(new Set([0, 1, 2, 3]));
    expect(refs.slice(4).map((ref) => ref.tracklet)).toEqual(firstFour);
    expect(refs.every((ref) => ref.frame >= 0 && ref.frame < 2)).toBe(true);
    expect(selectFrames(many, 4, 'multiview', 3, random).map((ref) => ref.tracklet)).toEqual([4, 4, 4]);
  });

  it("'all' returns every frame; unknown strategies and indices are rejected", () => {
    const random = createRandom(1);
    expect(selectFrames(tracklets, 0, 'all', 1, random).map((ref) => ref.frame)).toEqual([0, 1, 2]);
    expect(() => selectFrames(tracklets, 0, 'evenly' as 'all', 4, random)).toThrow(
      /"chunk", "chunk-first", "multiview", "all"/,
    );
    expect(() => selectFrames(tracklets, 999, 'chunk', 4, random)).toThrow(InvalidOptionError);
    expect(() => chunkFrameIndices(0, 4, random)).toThrow(/length/);
  });

  it('M-of-N student views: distinct sorted subsets, gathered with identical pixels', () => {
    const random = createRandom(4);
    const selection = sampleStudentViews(3, 8, 2, random);
    expect(selection).toHaveLength(3);
    for (const chosen of selection) {
      expect(chosen).toHaveLength(2);
      expect(chosen[0]).toBeLessThan(chosen[1] as number);
    }
    // frames [B=2, N=3, frameSize=2]: value = 10·b + view
    const frames = Float32Array.from([0, 0, 1, 1, 2, 2, 10, 10, 11, 11, 12, 12]);
    expect(
      Array.from(
        gatherViews(frames, 3, 2, [
          [0, 2],
          [1, 2],
        ]),
      ),
    ).toEqual([0, 0, 2, 2, 11, 11, 12, 12]);
    expect(() => sampleStudentViews(1, 2, 3, random)).toThrow(/M must be ≤ N = 2/);
    expect(() =>
      gatherViews(frames, 3, 2, [
        [0, 5],
        [1, 2],
      ]),
    ).toThrow(/Use 0\.\.2/);
    expect(() => gatherViews(frames, 4, 2, [[0], [1]])).toThrow(/Expected/);
  });
});
