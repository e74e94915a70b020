import { createRandom, InvalidOptionError, NonFiniteValueError, ShapeMismatchError } from '@vkd/core';
import { createRankingAccumulator, evaluateRanking } from '@vkd/metrics';
import { describe, expect, it } from 'vitest';
import { naiveEvaluate } from './naive-reference';

// One query (identity 1, camera 0) against six gallery items; hand-derived below.
const gallery = {
  galleryIdentities: [1, 2, 1, 3, 1, -1],
  galleryCameras: [1, 0, 0, 1, 2, 1],
};
const row = new Float32Array([0.3, 0.1, 0.05, 0.2, 0.6, 0.0]);
const single = { distances: row, queryIdentities: [1], queryCameras: [0], ...gallery };

describe('evaluateRanking: hand-derived cases', () => {
  it('removes same-camera matches and junk identities, keeps same-camera negatives', () => {
    // Kept order: #1 (neg, same camera), #3 (neg), #0 (good), #4 (good); #2 same id+cam and #5 id −1 removed.
    const result = evaluateRanking(single);
    expect(result.validQueries).toBe(1);
    expect(result.perQuery.firstHitRank[0]).toBe(3);
    expect(Array.from(result.cmc.subarray(0, 5))).toEqual([0, 0, 1, 1, 1]);
    expect(result.cmc).toHaveLength(50); // gallery shorter than maxRank: the curve keeps its last value
    expect(result.cmc[49]).toBe(1);
    expect(result.mAP).toBeCloseTo((1 / 3 + 2 / 4) / 2, 12); // hits at ranks 3 and 4
    expect(result.mAPTrapezoid).toBeCloseTo(7 / 24, 12); // ((0/2 + 1/3)/2 + (1/3 + 2/4)/2) / 2
    expect(result.mINP).toBeCloseTo(2 / 4, 12);
  });

  it('keeps same-camera matches as good items with excludeSameCamera: false', () => {
    const result = evaluateRanking({ ...single, excludeSameCamera: false });
    // Kept order: #2 (good), #1, #3, #0 (good), #4 (good): hits at ranks 1, 4, 5.
    expect(result.mAP).toBeCloseTo((1 + 2 / 4 + 3 / 5) / 3, 12);
    expect(result.mAPTrapezoid).toBeCloseTo(((1 + 1) / 2 + (1 / 3 + 2 / 4) / 2 + (2 / 4 + 3 / 5) / 2) / 3, 12);
    expect(result.mINP).toBeCloseTo(3 / 5, 12);
    expect(result.cmc[0]).toBe(1);
  });

  it('takes extra per-query junk from junkGallery', () => {
    const result = evaluateRanking({ ...single, junkGallery: (query) => (query === 0 ? [0] : undefined) });
    // Only #4 remains good, behind #1 and #3: rank 3.
    expect(result.mAP).toBeCloseTo(1 / 3, 12);
    expect(result.mAPTrapezoid).toBeCloseTo((0 + 1 / 3) / 2, 12);
    expect(result.mINP).toBeCloseTo(1 / 3, 12);
  });

  it('gives the three AP flavours their distinct values for a single positive', () => {
    const base = { queryIdentities: [7], queryCameras: [0], galleryIdentities: [8, 7, 9], galleryCameras: [1, 1, 1] };
    const atRankTwo = evaluateRanking({ ...base, distances: new Float32Array([0.1, 0.2, 0.3]) });
    expect([atRankTwo.mAP, atRankTwo.mAPTrapezoid, atRankTwo.mINP]).toEqual([0.5, 0.25, 0.5]);
    const atRankOne = evaluateRanking({ ...base, distances: new Float32Array([0.3, 0.2, 0.4]) });
    expect([atRankOne.mAP, atRankOne.mAPTrapezoid, atRankOne.mINP]).toEqual([1, 1, 1]);
  });

  it('breaks ties by gallery index', () => {
    const base = { queryIdentities: [7], queryCameras: [0], galleryCameras: [1, 1, 1] };
    // Negative #0 and good #1 tie: the negative (lower index) comes first.
    const negativeFirst = evaluateRanking({
      ...base,
      galleryIdentities: [8, 7, 9],
      distances: new Float32Array([0.5, 0.5, 0.9]),
    });
    expect(negativeFirst.perQuery.firstHitRank[0]).toBe(2);
    // Good #0 and negative #1 tie: the good item comes first.
    const goodFirst = evaluateRanking({
      ...base,
      galleryIdentities: [7, 8, 9],
      distances: new Float32Array([0.5, 0.5, 0.9]),
    });
    expect(goodFirst.perQuery.firstHitRank[0]).toBe(1);
  });

  it('skips queries without good items, lists them, and throws when none is valid', () => {
    const result = evaluateRanking({
      distances: new Float32Array([...row, ...row]),
      queryIdentities: [1, 42],
      queryCameras: [0, 0],
      ...gallery,
    });
    expect(result.validQueries).toBe(1);
    expect(result.skippedQueries).toEqual([1]);
    expect(result.perQuery.numGood[1]).toBe(0);
    expect(() => evaluateRanking({ ...single, queryIdentities: [42] })).toThrow(InvalidOptionError);
    expect(() => evaluateRanking({ ...single, queryIdentities: [42] })).toThrow(/No query has a good gallery item/);
  });

  it('treats identity 0 as a negative and −1 as junk by default', () => {
    const result = evaluateRanking({
      distances: new Float32Array([0.1, 0.2, 0.3]),
      queryIdentities: [5],
      queryCameras: [0],
      galleryIdentities: [0, -1, 5],
      galleryCameras: [1, 1, 1],
    });
    expect(result.perQuery.firstHitRank[0]).toBe(2);
  });

  it('rejects bad input with typed errors naming the argument', () => {
    expect(() => evaluateRanking({ ...single, distances: new Float32Array(5) })).toThrow(ShapeMismatchError);
    expect(() => evaluateRanking({ ...single, galleryCameras: [0, 1] })).toThrow(
      /galleryCameras has shape \[2\], expected \[6\]/,
    );
    expect(() => evaluateRanking({ ...single, maxRank: 0 })).toThrow(/Invalid maxRank: 0/);
    expect(() => evaluateRanking({ ...single, queryIdentities: [1.5] })).toThrow(/queryIdentities\[0\]/);
    const withNaN = new Float32Array(row);
    withNaN[4] = Number.NaN;
    expect(() => evaluateRanking({ ...single, distances: withNaN })).toThrow(NonFiniteValueError);
    expect(() => evaluateRanking({ ...single, distances: withNaN })).toThrow(/query 0 to gallery item 4 is NaN/);
  });
});

describe('evaluateRanking against the naive reference', () => {
  it('matches on 400 random cases with ties, junk, small galleries and unmatched queries', () => {
    const random = createRandom(2024);
    for (let trial = 0; trial < 400; trial++) {
      const Q = 1 + random.integer(12);
      const G = 1 + random.integer(trial % 4 === 0 ? 6 : 80);
      const identities = 1 + random.integer(8);
      const cameras = 1 + random.integer(4);
      const label = () => random.integer(identities + 1) - 1; // includes −1 (junk) and 0 (distractor)
      const quantum = trial % 3 === 0 ? 4 : 0; // a third of the cases have many exact ties
      const distance = () => (quantum ? random.integer(quantum) / quantum : random.next());
      const input = {
        distances: Float64Array.from({ length: Q * G }, distance),
        queryIdentities: Int32Array.from({ length: Q }, () => random.integer(identities)),
        queryCameras: Int32Array.from({ length: Q }, () => random.integer(cameras)),
        galleryIdentities: Int32Array.from({ length: G }, label),
        galleryCameras: Int32Array.from({ length: G }, () => random.integer(cameras)),
        maxRank: 1 + random.integer(20),
        junkIdentities: trial % 5 === 0 ? [-1, 0] : [-1],
        excludeSameCamera: trial % 7 !== 0,
        junkGallery: trial % 6 === 0 ? (q: number) => [q % G, (q * 3) % G] : undefined,
      };
      const expected = naiveEvaluate(input);
      if (expected.validQueries === 0) {
        expect(() => evaluateRanking(input)).toThrow(InvalidOptionError);
        continue;
      }
      const actual = evaluateRanking(input);
      expect(actual.validQueries).toBe(expected.validQueries);
      expect(actual.skippedQueries).toEqual(expected.skippedQueries);
      expect(actual.mAP).toBeCloseTo(expected.mAP, 12);
      expect(actual.mAPTrapezoid).toBeCloseTo(expected.mAPTrapezoid, 12);
      expect(actual.mINP).toBeCloseTo(expected.mINP, 12);
      Array.from(actual.cmc).forEach((value, k) => expect(value).toBeCloseTo(expected.cmc[k] as number, 12));
    }
  });

  it('gives the same result when query rows are streamed block by block', () => {
    const random = createRandom(7);
    const Q = 37;
    const G = 53;
    const input = {
      distances: Float32Array.from({ length: Q * G }, () => random.next()),
      queryIdentities: Int32Array.from({ length: Q }, () => random.integer(6)),
      queryCameras: Int32Array.from({ length: Q }, () => random.integer(3)),
      galleryIdentities: Int32Array.from({ length: G }, () => random.integer(6)),
      galleryCameras: Int32Array.from({ length: G }, () => random.integer(3)),
    };
    const whole = evaluateRanking(input);
    const accumulator = createRankingAccumulator(input);
    for (let start = 0; start < Q; start += 10) {
      const end = Math.min(Q, start + 10);
      accumulator.add(
        input.distances.subarray(start * G, end * G),
        input.queryIdentities.subarray(start, end),
        input.queryCameras.subarray(start, end),
      );
    }
    const streamed = accumulator.result();
    expect(streamed.mAP).toBe(whole.mAP);
    expect(streamed.mINP).toBe(whole.mINP);
    expect(Array.from(streamed.cmc)).toEqual(Array.from(whole.cmc));
    expect(streamed.skippedQueries).toEqual(whole.skippedQueries);
  });
});
