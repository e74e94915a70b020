import type { Tracklet } from '@vkd/datasets';
import type { ExtractedFeatures } from './extract-features';

/** Extracts features for a list of tracklets with a given number of frames each. */
export type Extractor = (tracklets: readonly Tracklet[], frames: number) => Promise<ExtractedFeatures>;

/**
 * Memoises set features by (frames, tracklet), so a tracklet that is both a query and a gallery item (MARS official
 * protocol), or a gallery extracted again for the frames sweep, runs through the network once.
 */
export function createFeatureCache(extract: Extractor) {
  const rows = new Map<string, Float32Array>();
  let dim = 0;
  return async (tracklets: readonly Tracklet[], frames: number): Promise<ExtractedFeatures> => {
    const keyOf = (tracklet: Tracklet) => `${frames}\u0000${tracklet.camera}\u0000${tracklet.frames.join('\u0000')}`;
    const missing: Tracklet[] = [];
    const pending = new Set<string>();
    for (const tracklet of tracklets) {
      const key = keyOf(tracklet);
      if (!rows.has(key) && !pending.has(key)) {
        pending.add(key);
        missing.push(tracklet);
      }
    }
    if (missing.length > 0) {
      const extracted = await extract(missing, frames);
      dim = extracted.dim;
      extracted.trackletIndices.forEach((trackletIndex, row) => {
        rows.set(keyOf(missing[trackletIndex] as Tracklet), extracted.features.subarray(row * dim, (row + 1) * dim));
      });
    }
    const features = new Float32Array(tracklets.length * dim);
    tracklets.forEach((tracklet, index) => features.set(rows.get(keyOf(tracklet)) as Float32Array, index * dim));
    return {
      features,
      dim,
      count: tracklets.length,
      identities: Int32Array.from(tracklets, (tracklet) => tracklet.identity),
      cameras: Int32Array.from(tracklets, (tracklet) => tracklet.camera),
      trackletIndices: Int32Array.from(tracklets, (_, index) => index),
    };
  };
}
