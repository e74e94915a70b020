import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { InvalidOptionError } from '@vkd/core';
import { generateSyntheticDataset, loadDataset, type ReidDataset, type Tracklet } from '@vkd/datasets';
import { createEvaluationLoader, createTrackletLoader, readImage, type TrackletBatch } from '@vkd/datasets/node';
import { evaluateFeatures } from '@vkd/metrics';
import type { ReidModel } from '@vkd/models';
import { useBackend } from '@vkd/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateModel, extractFeatures, type EvaluationProgress } from '../src/index';
import { writeAtrwLayout, writeVeriLayout } from './fixture-layouts';
import { tinyModel } from './helpers';

let root = '';
let dataset: ReidDataset;
let model: ReidModel;
const imageSize = [32, 16] as const;

beforeAll(async () => {
  await useBackend('cpu');
  root = await mkdtemp(path.join(tmpdir(), 'vkd-trainer-eval-'));
  await generateSyntheticDataset({
    root,
    identities: 8,
    cameras: 2,
    trackletsPerIdentity: 2,
    framesPerTracklet: 5,
    height: 32,
    width: 16,
    seed: 4,
  });
  dataset = await loadDataset('synthetic', { root, generate: false });
  model = tinyModel(dataset.numTrainIdentities);
});
afterAll(async () => {
  model.dispose();
  await rm(root, { recursive: true, force: true });
});

/** Counts frames pushed through the real model. */
function counting(inner: ReidModel) {
  const counter = { frames: 0 };
  const wrapped: Pick<ReidModel, 'forward'> = {
    forward(frames, options) {
      counter.frames += frames.shape.slice(0, frames.rank - 3).reduce((a, b) => a * b, 1);
      return inner.forward(frames, options);
    },
  };
  return { wrapped, counter };
}

describe('extractFeatures', () => {
  it('returns the pre-BNNeck embeddings of each tracklet, batch by batch, without leaking', async () => {
    const tracklets = dataset.gallery.slice(0, 5);
    const loader = () =>
      createTrackletLoader({
        tracklets,
        batches: [[0, 1], [2, 3], [4]],
        framesPerTracklet: 3,
        strategy: 'chunk-first',
        imageSize,
        augment: false,
      });
    const before = tf.memory().numTensors;
    const extracted = await extractFeatures(model, loader());
    expect(tf.memory().numTensors).toBe(before);
    expect(extracted.count).toBe(5);
    expect(extracted.dim).toBe(model.embeddingDim);
    expect(Array.from(extracted.identities)).toEqual(tracklets.map((t) => t.identity));
    // Reference: the whole set in one forward pass.
    const all: TrackletBatch[] = [];
    for await (const batch of createTrackletLoader({
      tracklets,
      batches: [[0, 1, 2, 3, 4]],
      framesPerTracklet: 3,
      strategy: 'chunk-first',
      imageSize,
      augment: false,
    }))
      all.push(batch);
    const reference = tf.tidy(
      () => model.forward(tf.tensor5d(all[0]!.frames, [...all[0]!.shape]), { training: false }).embeddings,
    );
    const expected = await reference.data();
    reference.dispose();
    for (let i = 0; i < expected.length; i++) expect(extracted.features[i]).toBeCloseTo(expected[i]!, 4);
  });
});

describe('evaluateModel', () => {
  it('computes I2V on first frames and V2V on chunk-first sets, consistent with @vkd/metrics', async () => {
    const { wrapped, counter } = counting(model);
    const progress: EvaluationProgress[] = [];
    const report = await evaluateModel(wrapped, dataset, {
      batches: createEvaluationLoader,
      imageSize,
      framesPerTracklet: 4,
      framesPerBatch: 16,
      onProgress: (entry) => void progress.push(entry),
    });
    expect(Object.keys(report.protocols).sort()).toEqual(['i2v', 'v2v']);
    const finalProgress = new Map(progress.map((entry) => [entry.phase, entry]));
    expect([...finalProgress.keys()]).toEqual(['query images ×1', 'query videos ×4', 'gallery ×4']);
    expect([...finalProgress.values()].every((entry) => entry.done === entry.total)).toBe(true);
    expect(
      progress.reduce(
        (sum, entry, index) =>
          sum +
          (index > 0 && progress[index - 1]!.phase === entry.phase
            ? entry.done - progress[index - 1]!.done
            : entry.done),
        0,
      ),
    ).toBe(counter.frames);
    // The official synthetic gallery contains the queries: each distinct tracklet runs once per frame count.
    const unique = new Set([...dataset.query, ...dataset.gallery].map((t) => t.frames.join()));
    expect(counter.frames).toBe(dataset.query.length * 1 + unique.size * 4);

    // Independent path: first frames read with readImage, one forward each.
    const firstFrames = await Promise.all(dataset.query.map((t) => readImage(t.frames[0]!, { height: 32, width: 16 })));
    const queryTensor = tf.tensor4d(concat(firstFrames.map((f) => f.data)), [firstFrames.length, 32, 16, 3]);
    const queryEmbeddings = tf.tidy(() => model.forward(queryTensor, { training: false }).embeddings);
    const gallery = await extractFeatures(
      model,
      createTrackletLoader({
        tracklets: dataset.gallery,
        batches: [dataset.gallery.map((_, i) => i)],
        framesPerTracklet: 4,
        strategy: 'chunk-first',
        imageSize,
        augment: false,
      }),
    );
    const expected = evaluateFeatures({
      queryFeatures: (await queryEmbeddings.data()) as Float32Array,
      galleryFeatures: gallery.features,
      dim: gallery.dim,
      queryIdentities: dataset.query.map((t) => t.identity),
      queryCameras: dataset.query.map((t) => t.camera),
      galleryIdentities: gallery.identities,
      galleryCameras: gallery.cameras,
    });
    tf.dispose([queryTensor, queryEmbeddings]);
    expect(report.protocols.i2v?.rank1).toBeCloseTo(expected.cmc[0]!, 6);
    expect(report.protocols.i2v?.mAPTrapezoid).toBeCloseTo(expected.mAPTrapezoid, 5);
    expect(report.protocols.i2v?.validQueries).toBe(expected.validQueries);
    const perCamera = report.protocols.v2v!.perCamera;
    expect(perCamera.reduce((sum, entry) => sum + entry.queries, 0)).toBe(report.protocols.v2v!.validQueries);
  });

  it('reports both MARS gallery modes, I2I/V2I and the gallery-frames sweep', async () => {
    const report = await evaluateModel(model, dataset, {
      batches: createEvaluationLoader,
      imageSize,
      framesPerTracklet: 4,
      protocols: ['i2v', 'v2v', 'i2i', 'v2i'],
      galleryModes: ['official', 'torchreid'],
      galleryFramesSweep: [1, 2, 4],
    });
    expect(Object.keys(report.protocols).sort()).toEqual(['i2i', 'i2v', 'v2i', 'v2v']);
    // Each number against an independent path: features extracted here in one batch per set (not through
    // evaluateModel's batches or its feature cache), ranked with @vkd/metrics directly.
    const torchreidGallery = dataset.gallery.filter(
      (item) => !dataset.query.some((query) => query.frames.join() === item.frames.join()),
    );
    expect(torchreidGallery.length).toBeLessThan(dataset.gallery.length);
    const expectations = [
      ['official i2v', report.galleryModes?.official?.i2v, await reference(dataset.query, 1, dataset.gallery, 4)],
      ['official v2v', report.galleryModes?.official?.v2v, await reference(dataset.query, 4, dataset.gallery, 4)],
      ['torchreid i2v', report.galleryModes?.torchreid?.i2v, await reference(dataset.query, 1, torchreidGallery, 4)],
      ['torchreid v2v', report.galleryModes?.torchreid?.v2v, await reference(dataset.query, 4, torchreidGallery, 4)],
      ['sweep ×1 v2v', report.galleryFramesSweep?.[0]?.v2v, await reference(dataset.query, 4, dataset.gallery, 1)],
      ['sweep ×2 i2v', report.galleryFramesSweep?.[1]?.i2v, await reference(dataset.query, 1, dataset.gallery, 2)],
      ['sweep ×2 v2v', report.galleryFramesSweep?.[1]?.v2v, await reference(dataset.query, 4, dataset.gallery, 2)],
    ] as const;
    for (const [name, summary, expected] of expectations) {
      expect(summary, name).toBeDefined();
      expect(summary!.validQueries, name).toBe(expected.validQueries);
      expect(summary!.rank1, name).toBeCloseTo(expected.cmc[0]!, 6);
      expect(summary!.mAP, name).toBeCloseTo(expected.mAP, 5);
      expect(summary!.mAPTrapezoid, name).toBeCloseTo(expected.mAPTrapezoid, 5);
    }
    // Fewer gallery frames give other distances: the sweep is not the ×4 result repeated.
    const sweepOne = expectations[4][2];
    const full = expectations[1][2];
    expect(Array.from(sweepOne.perQuery.averagePrecision)).not.toEqual(Array.from(full.perQuery.averagePrecision));
    expect(report.galleryFramesSweep?.map((entry) => entry.frames)).toEqual([1, 2, 4]);
    for (const summary of Object.values(report.protocols)) {
      expect(summary!.cmc).toHaveLength(50); // maxRank, the default
      expect(summary!.rank1).toBeLessThanOrEqual(summary!.rank5);
    }
  });

  it('rejects empty splits and bad frame counts', async () => {
    await expect(
      evaluateModel(model, { ...dataset, query: [] }, { batches: createEvaluationLoader, imageSize }),
    ).rejects.toThrow(InvalidOptionError);
    // The trainer decodes no images itself: the batch source is required.
    await expect(evaluateModel(model, dataset, { imageSize } as never)).rejects.toThrow(/evaluateModel\.batches/);
    await expect(
      evaluateModel(model, dataset, { batches: createEvaluationLoader, imageSize, framesPerTracklet: 0 }),
    ).rejects.toThrow(/framesPerTracklet/);
    await expect(
      evaluateModel(model, dataset, { batches: createEvaluationLoader, imageSize, protocols: ['v2x' as 'v2v'] }),
    ).rejects.toThrow(/evaluateModel.protocols: "v2x"/);
    await expect(
      evaluateModel(model, dataset, {
        batches: createEvaluationLoader,
        imageSize,
        galleryModes: ['matlab' as 'official'],
      }),
    ).rejects.toThrow(/galleryModes/);
    await expect(
      evaluateModel(model, dataset, { batches: createEvaluationLoader, imageSize, galleryFramesSweep: [1, 0] }),
    ).rejects.toThrow(/galleryFramesSweep/);
  });
});

/** Ranking of `queries` (N frames each) against `gallery` (M frames each), extracted in one batch per set. */
async function reference(
  queries: readonly Tracklet[],
  queryFrames: number,
  gallery: readonly Tracklet[],
  galleryFrames: number,
) {
  const extract = (tracklets: readonly Tracklet[], frames: number) =>
    extractFeatures(
      model,
      createTrackletLoader({
        tracklets,
        batches: [tracklets.map((_, i) => i)],
        framesPerTracklet: frames,
        strategy: 'chunk-first',
        imageSize,
        augment: false,
      }),
    );
  const query = await extract(queries, queryFrames);
  const items = await extract(gallery, galleryFrames);
  return evaluateFeatures({
    queryFeatures: query.features,
    galleryFeatures: items.features,
    dim: items.dim,
    queryIdentities: query.identities,
    queryCameras: query.cameras,
    galleryIdentities: items.identities,
    galleryCameras: items.cameras,
    maxRank: 50,
  });
}

function concat(arrays: Float32Array[]): Float32Array {
  const out = new Float32Array(arrays.reduce((sum, array) => sum + array.length, 0));
  let offset = 0;
  for (const array of arrays) {
    out.set(array, offset);
    offset += array.length;
  }
  return out;
}

describe('evaluateModel on VeRi-776 and ATRW layouts', () => {
  it('VeRi: I2V, V2V (query video = its gallery track), I2I and V2I against single gallery images', async () => {
    const veriRoot = path.join(root, 'veri');
    await writeVeriLayout(dataset, veriRoot);
    const veri = await loadDataset('veri-776', { root: veriRoot });
    const { wrapped, counter } = counting(model);
    const report = await evaluateModel(wrapped, veri, {
      batches: createEvaluationLoader,
      imageSize,
      framesPerTracklet: 4,
    });
    expect(Object.keys(report.protocols).sort()).toEqual(['i2i', 'i2v', 'v2i', 'v2v']);
    const galleryImages = veri.gallery.reduce((sum, track) => sum + track.frames.length, 0);
    // Image queries once, gallery tracks once (reused as V2V queries), every gallery image once.
    expect(counter.frames).toBe(veri.query.length + veri.gallery.length * 4 + galleryImages);
    // A query video is its own gallery track, which the same-camera rule junks: no query may rank it first.
    expect(report.protocols.v2v!.validQueries).toBe(veri.query.length);
    expect(report.protocols.v2v!.rank1).toBeLessThan(1);
  });

  it('ATRW: image queries with near-duplicate junk, split into single- and cross-camera queries', async () => {
    const atrwRoot = path.join(root, 'atrw');
    await writeAtrwLayout(dataset, atrwRoot);
    const atrw = await loadDataset('atrw', { root: atrwRoot, protocol: 'all' });
    const report = await evaluateModel(model, atrw, { batches: createEvaluationLoader, imageSize });
    expect(Object.keys(report.protocols)).toEqual(['i2i']);
    const i2i = report.protocols.i2i!;
    expect(Object.keys(i2i.byQueryType ?? {}).sort()).toEqual(['multi', 'sing']);
    expect(i2i.byQueryType!['sing']!.queries + i2i.byQueryType!['multi']!.queries).toBe(i2i.validQueries);
    // Without the junk list every query would find itself at distance 0.
    const features = await extractFeatures(
      model,
      createTrackletLoader({
        tracklets: atrw.gallery,
        batches: [atrw.gallery.map((_, i) => i)],
        framesPerTracklet: 1,
        strategy: 'chunk-first',
        imageSize,
        augment: false,
      }),
    );
    const naive = evaluateFeatures({
      queryFeatures: features.features,
      galleryFeatures: features.features,
      dim: features.dim,
      queryIdentities: features.identities,
      queryCameras: features.cameras,
      galleryIdentities: features.identities,
      galleryCameras: features.cameras,
      excludeSameCamera: false,
    });
    expect(naive.cmc[0]).toBe(1);
    expect(i2i.rank1).toBeLessThan(1);
  });
});
