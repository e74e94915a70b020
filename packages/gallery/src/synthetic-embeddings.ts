import { createRandom, type Random } from '@vkd/core';

/** Settings of a synthetic Re-ID-like embedding space. */
export interface SyntheticSpaceOptions {
  readonly dimension: number;
  /** Distinct identities (clusters). */
  readonly identities: number;
  /** Default 6. */
  readonly cameras?: number;
  /** Length of each camera's offset relative to the unit identity centre. Default 0.3. */
  readonly cameraShift?: number;
  /** Expected length of the per-tracklet noise vector. Default 0.8. */
  readonly noise?: number;
  /**
   * Intrinsic dimension: identity centres, camera offsets and most of the noise lie in a random r-dimensional
   * subspace of R^D, as deep Re-ID features do (their intrinsic dimension is tens, not D: Ansuini et al., "Intrinsic
   * dimension of data representations in deep neural networks", NeurIPS 2019). Default min(D, 64).
   */
  readonly intrinsicDimension?: number;
  /** Share of the noise outside that subspace (isotropic in R^D). Default 0.1. */
  readonly ambientNoise?: number;
  /** Seed of the centres and camera offsets. Default 0. */
  readonly seed?: number;
}

/**
 * A Re-ID-like embedding space: each identity is a random unit centre, each camera adds its own fixed offset
 * (lighting, viewpoint), each tracklet adds noise; all three live mostly in a low-dimensional subspace. Rows can be drawn in chunks from any random stream, so a
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
  const rank = Math.min(dimension, options.intrinsicDimension ?? 64);
  // Basis of the subspace: r random directions of R^D (nearly orthogonal for D >> r), each of unit length.
  const basis = new Float32Array(rank * dimension);
  for (let axis = 0; axis < rank; axis++) {
    let squared = 0;
    for (let index = 0; index < dimension; index++) {
      const value = random.normal();
      basis[axis * dimension + index] = value;
      squared += value * value;
    }
    const factor = 1 / Math.sqrt(squared);
    for (let index = 0; index < dimension; index++) {
      basis[axis * dimension + index] = (basis[axis * dimension + index] as number) * factor;
    }
  }
  /**
   * Adds a random vector of the subspace to `target` at `offset`: of length exactly `scale` (unit direction), or
   * Gaussian with expected squared length scale² (`gaussian`).
   */
  const addSubspace = (target: Float32Array, offset: number, scale: number, stream: Random, gaussian = false): void => {
    const weights = Array.from({ length: rank }, () => stream.normal());
    const norm = gaussian ? Math.sqrt(rank) : Math.sqrt(weights.reduce((sum, weight) => sum + weight * weight, 0));
    for (let axis = 0; axis < rank; axis++) {
      const weight = ((weights[axis] as number) / norm) * scale;
      const base = axis * dimension;
      for (let index = 0; index < dimension; index++) {
        target[offset + index] = (target[offset + index] as number) + weight * (basis[base + index] as number);
      }
    }
  };
  const centres = new Float32Array(identities * dimension);
  for (let identity = 0; identity < identities; identity++) addSubspace(centres, identity * dimension, 1, random);
  const offsets = new Float32Array(cameraCount * dimension);
  for (let camera = 0; camera < cameraCount; camera++) {
    addSubspace(offsets, camera * dimension, options.cameraShift ?? 0.3, random);
  }
  const noise = options.noise ?? 0.8;
  const ambient = options.ambientNoise ?? 0.1;
  const ambientScale = (noise * ambient) / Math.sqrt(dimension);
  const subspaceNoise = noise * Math.sqrt(1 - ambient * ambient);
  return {
    dimension,
    identities,
    cameras: cameraCount,
    fill(features, rowIdentities, rowCameras, stream) {
      for (let row = 0; row < rowIdentities.length; row++) {
        const identity = rowIdentities[row] as number;
        const camera = stream.integer(cameraCount);
        rowCameras[row] = camera;
        const base = row * dimension;
        const centre = identity * dimension;
        const offset = camera * dimension;
        for (let index = 0; index < dimension; index++) {
          features[base + index] =
            (centres[centre + index] as number) + (offsets[offset + index] as number) + ambientScale * stream.normal();
        }
        // Gaussian noise of expected squared length noise²: mostly in the subspace, the `ambientNoise` share outside.
        addSubspace(features, base, subspaceNoise, stream, true);
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
