import { createRandom, type Random } from '@vkd/core';

/** Settings of a synthetic Re-ID-like embedding space. */
export interface SyntheticSpaceOptions {
  readonly dimension: number;
  /** Distinct identities (clusters). */
  readonly identities: number;
  /** Default 6. */
  readonly cameras?: number;
  /** Length of each camera's offset relative to the unit identity centre. Default 0.5. */
  readonly cameraShift?: number;
  /** Expected length of the per-tracklet noise vector. Default 0.8. */
  readonly noise?: number;
  /** Seed of the centres and camera offsets. Default 0. */
  readonly seed?: number;
}

/**
 * A Re-ID-like embedding space: each identity is a random unit centre, each camera adds its own fixed offset
 * (lighting, viewpoint), each tracklet adds isotropic noise. Rows can be drawn in chunks from any random stream, so a
 * benchmark can stream millions of tracklets without holding them.
 */
export interface SyntheticSpace {
  readonly dimension: number;
  readonly identities: number;
  readonly cameras: number;
  /** Fills `count` rows of `features` ([count, D]) for the given identities, drawing cameras and noise from `random`. */
  fill(features: Float32Array, identities: Int32Array, cameras: Int32Array, random: Random): void;
}

/** Creates the space (centres and offsets are drawn here, from `seed`). */
export function createSyntheticSpace(options: SyntheticSpaceOptions): SyntheticSpace {
  const { dimension, identities } = options;
  const cameraCount = options.cameras ?? 6;
  const random = createRandom(options.seed ?? 0);
  const unit = (scale: number): Float32Array => {
    const vector = new Float32Array(dimension);
    let squared = 0;
    for (let index = 0; index < dimension; index++) {
      const value = random.normal();
      vector[index] = value;
      squared += value * value;
    }
    const factor = scale / Math.sqrt(squared);
    for (let index = 0; index < dimension; index++) vector[index] = (vector[index] as number) * factor;
    return vector;
  };
  const centres = new Float32Array(identities * dimension);
  for (let identity = 0; identity < identities; identity++) centres.set(unit(1), identity * dimension);
  const offsets = Array.from({ length: cameraCount }, () => unit(options.cameraShift ?? 0.5));
  const noise = (options.noise ?? 0.8) / Math.sqrt(dimension);
  return {
    dimension,
    identities,
    cameras: cameraCount,
    fill(features, rowIdentities, rowCameras, stream) {
      for (let row = 0; row < rowIdentities.length; row++) {
        const identity = rowIdentities[row] as number;
        const camera = stream.integer(cameraCount);
        rowCameras[row] = camera;
        const offset = offsets[camera] as Float32Array;
        const base = row * dimension;
        const centre = identity * dimension;
        for (let index = 0; index < dimension; index++) {
          features[base + index] =
            (centres[centre + index] as number) + (offset[index] as number) + noise * stream.normal();
        }
      }
    },
  };
}

/** Embeddings [n, D] row-major with their labels. */
export interface SyntheticEmbeddings {
  readonly features: Float32Array;
  readonly identities: Int32Array;
  readonly cameras: Int32Array;
  readonly dimension: number;
}

/**
 * `tracklets` rows of a synthetic space in one array; tracklet i belongs to identity i mod I (default I =
 * tracklets / 8), so every identity spreads over several cameras. Deterministic for a seed.
 */
export function syntheticEmbeddings(
  options: Omit<SyntheticSpaceOptions, 'identities'> & { readonly tracklets: number; readonly identities?: number },
): SyntheticEmbeddings {
  const identityCount = options.identities ?? Math.max(1, Math.floor(options.tracklets / 8));
  const space = createSyntheticSpace({ ...options, identities: identityCount });
  const identities = Int32Array.from({ length: options.tracklets }, (_, row) => row % identityCount);
  const cameras = new Int32Array(options.tracklets);
  const features = new Float32Array(options.tracklets * options.dimension);
  space.fill(features, identities, cameras, createRandom((options.seed ?? 0) + 1));
  return { features, identities, cameras, dimension: options.dimension };
}
