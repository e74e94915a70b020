import { InvalidOptionError, type Random } from '@vkd/core';
import type { Tracklet } from './types';

/**
 * How frames are chosen from tracklets:
 * - `'chunk'` (training, VKD `RandomTemporalChunkCrop`): one random frame per chunk;
 * - `'chunk-first'` (test, VKD `TemporalChunkCrop`): the first frame of each chunk;
 * - `'multiview'` (VKD distillation, `MultiViewTemporalTransform`): N frames from N different tracklets of the
 *   same identity (any camera, the anchor included), cycling through a random permutation when there are fewer;
 * - `'all'`: every frame in order.
 */
export type FrameStrategy = 'chunk' | 'chunk-first' | 'multiview' | 'all';

/** Every {@link FrameStrategy}, in the order error messages list them. */
export const FRAME_STRATEGIES: readonly FrameStrategy[] = ['chunk', 'chunk-first', 'multiview', 'all'];

function checkCount(count: number, where: string): void {
  if (!Number.isInteger(count) || count < 1) throw new InvalidOptionError(where, count, 'Use an integer ≥ 1.');
}

/** Chunk layout shared by both chunk rules: F < N → all frames then the last repeated; else ceil(F/N)-long chunks. */
function chunks(length: number, count: number): number[][] {
  if (length < count) return Array.from({ length: count }, (_, slot) => [Math.min(slot, length - 1)]);
  const chunkLength = Math.ceil(length / count);
  // Indices padded with the last index to chunkLength·count, then split into `count` consecutive chunks.
  return Array.from({ length: count }, (_, slot) =>
    Array.from({ length: chunkLength }, (_, offset) => Math.min(slot * chunkLength + offset, length - 1)),
  );
}

/**
 * `'chunk'`: one uniformly random index per chunk (padded positions can be drawn, as in VKD).
 * @param length frames in the tracklet F ≥ 1.  @param count N.  @returns N frame indices.
 */
export function chunkFrameIndices(length: number, count: number, random: Random): number[] {
  checkCount(count, 'chunkFrameIndices.count');
  checkCount(length, 'chunkFrameIndices.length');
  return chunks(length, count).map((chunk) => chunk[random.integer(chunk.length)] as number);
}

/**
 * `'chunk-first'`: first index of each chunk. F=10, N=8 → [0,2,4,6,8,9,9,9]; F=5 → [0,1,2,3,4,4,4,4]; F=64 → [0,8,…,56].
 */
export function chunkFirstFrameIndices(length: number, count: number): number[] {
  checkCount(count, 'chunkFirstFrameIndices.count');
  checkCount(length, 'chunkFirstFrameIndices.length');
  return chunks(length, count).map((chunk) => chunk[0] as number);
}

/** A frame reference: which tracklet, which frame. */
export interface FrameRef {
  readonly tracklet: number;
  readonly frame: number;
}

/** Index of tracklets by identity, for the multiview strategy. */
export type TrackletsByIdentity = ReadonlyMap<number, readonly number[]>;

/** Groups tracklet indices by identity (in index order). */
export function groupByIdentity(tracklets: readonly Pick<Tracklet, 'identity'>[]): TrackletsByIdentity {
  const groups = new Map<number, number[]>();
  tracklets.forEach((tracklet, index) => {
    const group = groups.get(tracklet.identity) ?? [];
    group.push(index);
    groups.set(tracklet.identity, group);
  });
  return groups;
}

/**
 * Chooses `count` frames for tracklet `anchor` with a strategy (the `'all'` strategy ignores `count`).
 * @param byIdentity needed by `'multiview'` (build once with {@link groupByIdentity}).
 * @throws InvalidOptionError for an unknown strategy or bad count.
 */
export function selectFrames(
  tracklets: readonly Pick<Tracklet, 'identity' | 'frames'>[],
  anchor: number,
  strategy: FrameStrategy,
  count: number,
  random: Random,
  byIdentity?: TrackletsByIdentity,
): FrameRef[] {
  const tracklet = tracklets[anchor];
  if (!tracklet)
    throw new InvalidOptionError('selectFrames.anchor', anchor, `Use a tracklet index in 0..${tracklets.length - 1}.`);
  const length = tracklet.frames.length;
  switch (strategy) {
    case 'chunk':
      return chunkFrameIndices(length, count, random).map((frame) => ({ tracklet: anchor, frame }));
    case 'chunk-first':
      return chunkFirstFrameIndices(length, count).map((frame) => ({ tracklet: anchor, frame }));
    case 'all':
      return tracklet.frames.map((_, frame) => ({ tracklet: anchor, frame }));
    case 'multiview': {
      checkCount(count, 'selectFrames.count');
      const candidates = random.shuffle([
        ...((byIdentity ?? groupByIdentity(tracklets)).get(tracklet.identity) ?? [anchor]),
      ]);
      return Array.from({ length: count }, (_, slot) => {
        const chosen = candidates[slot % candidates.length] as number;
        return { tracklet: chosen, frame: random.integer((tracklets[chosen] as Tracklet).frames.length) };
      });
    }
    default:
      throw new InvalidOptionError(
        'frame strategy',
        strategy,
        `Use one of ${FRAME_STRATEGIES.map((name) => `"${name}"`).join(', ')}.`,
      );
  }
}

/**
 * M-of-N student subset (VKD §4.4): for each of `batch` samples, `subset` distinct positions out of `views`,
 * from an independent random permutation, kept in increasing order.
 * @returns `[batch][subset]` view indices; gather frames `[B, N, …]` → `[B, M, …]` with {@link gatherViews}.
 */
export function sampleStudentViews(batch: number, views: number, subset: number, random: Random): number[][] {
  checkCount(batch, 'sampleStudentViews.batch');
  checkCount(views, 'sampleStudentViews.views');
  checkCount(subset, 'sampleStudentViews.subset');
  if (subset > views) throw new InvalidOptionError('sampleStudentViews.subset', subset, `M must be ≤ N = ${views}.`);
  return Array.from({ length: batch }, () =>
    random
      .shuffle(Array.from({ length: views }, (_, view) => view))
      .slice(0, subset)
      .sort((a, b) => a - b),
  );
}

/**
 * Copies the chosen views of a `[B, N, ...frame]` Float32Array into a new `[B, M, ...frame]` array
 * (pixels identical to the teacher's, as VKD does).
 * @param frameSize elements per frame (H·W·3).
 */
export function gatherViews(
  frames: Float32Array,
  views: number,
  frameSize: number,
  selection: readonly (readonly number[])[],
): Float32Array {
  const batch = selection.length;
  if (frames.length !== batch * views * frameSize) {
    throw new InvalidOptionError(
      'gatherViews.frames',
      frames,
      `Expected ${batch}·${views}·${frameSize} = ${batch * views * frameSize} values.`,
    );
  }
  const subset = selection[0]?.length ?? 0;
  const out = new Float32Array(batch * subset * frameSize);
  selection.forEach((chosen, sample) => {
    chosen.forEach((view, slot) => {
      if (!Number.isInteger(view) || view < 0 || view >= views)
        throw new InvalidOptionError(`gatherViews.selection[${sample}][${slot}]`, view, `Use 0..${views - 1}.`);
      const from = (sample * views + view) * frameSize;
      out.set(frames.subarray(from, from + frameSize), (sample * subset + slot) * frameSize);
    });
  });
  return out;
}
