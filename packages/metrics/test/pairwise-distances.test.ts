import { createRandom, InvalidOptionError, NonFiniteValueError, ShapeMismatchError } from '@vkd/core';
import { evaluateFeatures, evaluateRanking, pairwiseDistances } from '@vkd/metrics';
import { describe, expect, it } from 'vitest';

function randomFeatures(rows: number, dim: number, seed: number): Float32Array {
  const random = createRandom(seed);
  return Float32Array.from({ length: rows * dim }, () => random.normal());
}

/** Float64 reference, straight from the definitions. */
function referenceDistance(
  a: Float32Array,
  i: number,
  b: Float32Array,
  j: number,
  dim: number,
  metric: string,
): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  let squared = 0;
  for (let d = 0; d < dim; d++) {
    const x = a[i * dim + d] as number;
    const y = b[j * dim + d] as number;
    dot += x * y;
    na += x * x;
    nb += y * y;
    squared += (x - y) * (x - y);
  }
  if (metric === 'cosine') return 1 - dot / (Math.max(Math.sqrt(na), 1e-12) * Math.max(Math.sqrt(nb), 1e-12));
  return metric === 'euclidean' ? Math.sqrt(squared) : squared;
}

describe('pairwiseDistances', () => {
  // Shapes cross every blocking boundary: odd Q (2-row kernel), G not a multiple of 4 or of the 96-row tile,
  // D not a multiple of 4 and above the 512-deep pass, Q above the 64-query block.
  const shapes = [
    [1, 1, 1],
    [3, 5, 7],
    [67, 101, 1030],
    [2, 197, 16],
  ] as const;
  for (const metric of ['cosine', 'euclidean', 'squared-euclidean'] as const) {
    it(`matches the float64 definition (${metric})`, () => {
      for (const [Q, G, D] of shapes) {
        const query = randomFeatures(Q, D, Q + D);
        const gallery = randomFeatures(G, D, G * 7 + D);
        const distances = pairwiseDistances(query, gallery, D, { metric });
        expect(distances).toHaveLength(Q * G);
        for (let i = 0; i < Q; i++) {
          for (let j = 0; j < G; j++) {
            const expected = referenceDistance(query, i, gallery, j, D, metric);
            const tolerance =
              metric === 'cosine' ? 2e-5 : 2e-5 * Math.max(1, expected) * (metric === 'euclidean' ? 1 : D / 8);
            expect(Math.abs((distances[i * G + j] as number) - expected)).toBeLessThanOrEqual(tolerance);
          }
        }
      }
    });
  }

  it('gives bit-identical results on 1 and 3 threads (worker threads on a shared memory)', () => {
    // 64 × 260 × 1500 multiply-adds per block: above the threshold at which worker threads are woken.
    const query = randomFeatures(70, 1500, 1);
    const gallery = randomFeatures(260, 1500, 2);
    for (const metric of ['cosine', 'euclidean'] as const) {
      const single = pairwiseDistances(query, gallery, 1500, { metric, threads: 1 });
      const threaded = pairwiseDistances(query, gallery, 1500, { metric, threads: 3 });
      expect(threaded).toEqual(single);
    }
    expect(() => pairwiseDistances(query, gallery, 300, { threads: 0 })).toThrow(/Invalid threads: 0/);
  });

  it('defaults to cosine and gives zero vectors distance 1', () => {
    const query = new Float32Array([0, 0, 3, 4]);
    const gallery = new Float32Array([1, 0, 0, 2]);
    const distances = pairwiseDistances(query, gallery, 2);
    [1, 1, 1 - 0.6, 1 - 0.8].forEach((expected, k) => expect(distances[k]).toBeCloseTo(expected, 6));
  });

  it('rejects bad input with typed errors', () => {
    const ok = new Float32Array(8);
    expect(() => pairwiseDistances(ok, new Float32Array(7), 4)).toThrow(ShapeMismatchError);
    expect(() => pairwiseDistances(ok, ok, 0)).toThrow(/Invalid dim: 0/);
    expect(() => pairwiseDistances(ok, ok, 4, { metric: 'manhattan' as 'cosine' })).toThrow(InvalidOptionError);
    expect(() => pairwiseDistances([1, 2] as unknown as Float32Array, ok, 4)).toThrow(/Invalid query/);
    const bad = new Float32Array(8);
    bad[5] = Number.NaN;
    expect(() => pairwiseDistances(ok, bad, 4)).toThrow(NonFiniteValueError);
    expect(() => pairwiseDistances(ok, bad, 4)).toThrow(/gallery: row 1, column 1 is NaN/);
  });
});

describe('evaluateFeatures', () => {
  it('equals pairwiseDistances + evaluateRanking, across several query blocks', () => {
    const random = createRandom(3);
    const Q = 150;
    const G = 90;
    const D = 24;
    const centres = randomFeatures(10, D, 99);
    const make = (n: number) => {
      const identities = Int32Array.from({ length: n }, () => random.integer(10));
      const features = new Float32Array(n * D);
      identities.forEach((id, i) => {
        for (let d = 0; d < D; d++) features[i * D + d] = (centres[id * D + d] as number) + 1.5 * random.normal();
      });
      return { identities, features, cameras: Int32Array.from({ length: n }, () => random.integer(4)) };
    };
    const query = make(Q);
    const gallery = make(G);
    const labels = {
      queryIdentities: query.identities,
      galleryIdentities: gallery.identities,
      queryCameras: query.cameras,
      galleryCameras: gallery.cameras,
    };
    const direct = evaluateFeatures({
      queryFeatures: query.features,
      galleryFeatures: gallery.features,
      dim: D,
      ...labels,
    });
    const twoStep = evaluateRanking({ distances: pairwiseDistances(query.features, gallery.features, D), ...labels });
    expect(direct.mAP).toBe(twoStep.mAP);
    expect(Array.from(direct.cmc)).toEqual(Array.from(twoStep.cmc));
    expect(direct.mAP).toBeGreaterThan(0.3); // clustered features rank well above chance
  });
});
