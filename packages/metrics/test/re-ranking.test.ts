import fs from 'node:fs';
import { createRandom, InvalidOptionError } from '@vkd/core';
import { evaluateRanking, pairwiseDistances, reRank } from '@vkd/metrics';
import { describe, expect, it } from 'vitest';

interface Case {
  k1: number;
  k2: number;
  lambda: number;
  dim: number;
  query: number[];
  gallery: number[];
  expected: number[];
}
const fixture = JSON.parse(fs.readFileSync(new URL('./__fixtures__/rerank.json', import.meta.url), 'utf8')) as {
  cases: Case[];
};

describe('reRank', () => {
  it('matches torchreid re_ranking (numpy, tools/fixtures/metrics) for several k1/k2/lambda', () => {
    for (const c of fixture.cases) {
      const actual = reRank({
        queryFeatures: Float32Array.from(c.query),
        galleryFeatures: Float32Array.from(c.gallery),
        dim: c.dim,
        k1: c.k1,
        k2: c.k2,
        lambda: c.lambda,
        metric: 'cosine',
      });
      expect(actual).toHaveLength(c.expected.length);
      c.expected.forEach((value, k) => expect(Math.abs((actual[k] as number) - value)).toBeLessThan(1e-5));
    }
  });

  it('improves mAP on clustered features with distractor structure', () => {
    const random = createRandom(11);
    const dim = 16;
    const centres = Float32Array.from({ length: 20 * dim }, () => random.normal());
    const make = (n: number) => {
      const ids = Int32Array.from({ length: n }, () => random.integer(20));
      const features = Float32Array.from(
        { length: n * dim },
        (_, k) => (centres[(ids[Math.floor(k / dim)] as number) * dim + (k % dim)] as number) + 1.2 * random.normal(),
      );
      return { ids, features, cams: Int32Array.from({ length: n }, () => random.integer(4)) };
    };
    const query = make(60);
    const gallery = make(300);
    const labels = {
      queryIdentities: query.ids,
      galleryIdentities: gallery.ids,
      queryCameras: query.cams,
      galleryCameras: gallery.cams,
    };
    const before = evaluateRanking({ distances: pairwiseDistances(query.features, gallery.features, dim), ...labels });
    const after = evaluateRanking({
      distances: reRank({ queryFeatures: query.features, galleryFeatures: gallery.features, dim }),
      ...labels,
    });
    expect(after.mAP).toBeGreaterThan(before.mAP);
  });

  it('rejects bad options', () => {
    const features = new Float32Array(8);
    expect(() => reRank({ queryFeatures: features, galleryFeatures: features, dim: 4, k1: 0 })).toThrow(
      InvalidOptionError,
    );
    expect(() => reRank({ queryFeatures: features, galleryFeatures: features, dim: 4, lambda: 2 })).toThrow(
      /Invalid lambda: 2/,
    );
  });
});
