import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuplicateKeyError, InvalidOptionError, NonFiniteValueError, ShapeMismatchError } from '@vkd/core';
import { evaluateFeatures } from '@vkd/metrics';
import { afterEach, describe, expect, it } from 'vitest';
import {
  GalleryCorruptError,
  GalleryLockedError,
  LOCK_FILE,
  ModelMismatchError,
  evaluateThroughGallery,
  openGallery,
  type Gallery,
  type TrackletRecord,
} from '../src/index';
import { syntheticEmbeddings } from '../src/synthetic-embeddings';

const model = { modelId: 'resnet18-test', dimension: 16, inputSettings: { height: 128, width: 64 } };
const directories: string[] = [];
const galleries: Gallery[] = [];

function freshDirectory(): string {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'vkd-gallery-'));
  directories.push(directory);
  return path.join(directory, 'db');
}

async function open(directory: string, mode: 'read' | 'write' = 'write'): Promise<Gallery> {
  const gallery = await openGallery(directory, { model, mode });
  galleries.push(gallery);
  return gallery;
}

function records(count: number, seed = 1): TrackletRecord[] {
  const data = syntheticEmbeddings({ tracklets: count, dimension: model.dimension, identities: 10, seed });
  return Array.from({ length: count }, (_, row) => ({
    trackletId: `t${row}`,
    embedding: data.features.slice(row * model.dimension, (row + 1) * model.dimension),
    identity: data.identities[row] as number,
    camera: data.cameras[row] as number,
    startTime: row * 10,
    endTime: row * 10 + 5,
    framePaths: [`frames/${row}/0.jpg`, `frames/${row}/1.jpg`],
  }));
}

/** Independent reference: brute-force cosine distances in float64. */
function bruteForce(query: ArrayLike<number>, candidates: TrackletRecord[]): { id: string; distance: number }[] {
  const norm = (v: ArrayLike<number>) => Math.sqrt(Array.from(v).reduce((sum, x) => sum + x * x, 0));
  return candidates
    .map((record) => {
      const e = record.embedding;
      let dot = 0;
      for (let i = 0; i < e.length; i++) dot += (e[i] as number) * (query[i] as number);
      return { id: record.trackletId, distance: 1 - dot / (norm(e) * norm(query)) };
    })
    .sort((a, b) => a.distance - b.distance);
}

afterEach(async () => {
  for (const gallery of galleries.splice(0)) await gallery.close();
  for (const directory of directories.splice(0)) fs.rmSync(directory, { recursive: true, force: true });
});

describe('@vkd/gallery on LanceDB', () => {
  it('adds, searches exactly like brute force, counts, filters and deletes', async () => {
    const directory = freshDirectory();
    const gallery = await open(directory);
    const all = records(60);
    expect(await gallery.add(all)).toBe(60);
    expect(await gallery.count()).toBe(60);
    const query = all[7]?.embedding as Float32Array;
    const hits = await gallery.search(query, { top: 5 });
    const expected = bruteForce(query, all).slice(0, 5);
    expect(hits.map((hit) => hit.trackletId)).toEqual(expected.map((hit) => hit.id));
    hits.forEach((hit, index) => expect(hit.distance).toBeCloseTo(expected[index]?.distance as number, 5));
    expect(hits[0]).toMatchObject({ trackletId: 't7', camera: all[7]?.camera, startTime: 70, endTime: 75 });
    expect(hits[0]?.framePaths).toEqual(['frames/7/0.jpg', 'frames/7/1.jpg']);

    const otherCameras = await gallery.search(query, {
      top: 60,
      filter: { excludeCameras: [all[7]?.camera as number] },
    });
    expect(otherCameras.length).toBe(all.filter((r) => r.camera !== all[7]?.camera).length);
    expect(otherCameras.every((hit) => hit.camera !== all[7]?.camera)).toBe(true);
    const window = await gallery.search(query, { top: 60, filter: { timeWindow: { from: 103, to: 200 } } });
    // Tracklets overlapping [103, 200]: row 10 ends at 105, row 20 starts at 200.
    expect(window.map((hit) => hit.trackletId).sort()).toEqual(
      Array.from({ length: 11 }, (_, i) => `t${i + 10}`).sort(),
    );
    expect(await gallery.count({ identities: [3] })).toBe(all.filter((r) => r.identity === 3).length);

    expect(await gallery.delete({ trackletIds: ['t7', 't8'] })).toBe(2);
    expect(await gallery.count()).toBe(58);
    expect((await gallery.search(query, { top: 1 }))[0]?.trackletId).not.toBe('t7');
    await expect(gallery.delete({})).rejects.toBeInstanceOf(InvalidOptionError);
  });

  it('keeps data across reopen, refuses duplicates, bad embeddings and read-only writes', async () => {
    const directory = freshDirectory();
    const writer = await open(directory);
    const batch = records(20);
    await writer.add(batch);
    await expect(writer.add([batch[0] as TrackletRecord])).rejects.toBeInstanceOf(DuplicateKeyError);
    const twice = { ...(batch[1] as TrackletRecord), trackletId: 'new' };
    await expect(writer.add([twice, twice])).rejects.toBeInstanceOf(DuplicateKeyError);
    await expect(writer.add([{ ...twice, embedding: new Float32Array(8) }])).rejects.toBeInstanceOf(ShapeMismatchError);
    const nan = new Float32Array(16).fill(1);
    nan[3] = Number.NaN;
    await expect(writer.add([{ ...twice, embedding: nan }])).rejects.toBeInstanceOf(NonFiniteValueError);
    await expect(writer.add([{ ...twice, camera: 1.5 }])).rejects.toBeInstanceOf(InvalidOptionError);
    expect(await writer.count()).toBe(20);
    await writer.close();

    const reader = await open(directory, 'read');
    expect(await reader.count()).toBe(20);
    await expect(reader.add([twice])).rejects.toThrow(/mode 'write'/);
    expect((await reader.has(['t3', 'zzz'])).has('t3')).toBe(true);
    const writerAgain = await open(directory);
    await writerAgain.add([twice]);
    // Positions continue after the reopen: the new record is gallery index 20.
    const hit = (await writerAgain.search(twice.embedding, { top: 1, filter: { excludeTrackletIds: ['t1'] } }))[0];
    expect(hit).toMatchObject({ trackletId: 'new', position: 20 });
  });

  it('refuses a query or writer of another model, naming both models', async () => {
    const directory = freshDirectory();
    await (await open(directory)).close();
    const other = { modelId: 'resnet50-other', dimension: 16 };
    await expect(openGallery(directory, { model: other, mode: 'write' })).rejects.toThrow(
      /model "resnet18-test".*not of model "resnet50-other"/,
    );
    const reader = await open(directory, 'read');
    await expect(reader.search(new Float32Array(16).fill(1), { model: other })).rejects.toBeInstanceOf(
      ModelMismatchError,
    );
    await expect(reader.search(new Float32Array(32).fill(1))).rejects.toBeInstanceOf(ShapeMismatchError);
  });

  it('lets one writer at a time in, names the holder, and takes over a stale lock', async () => {
    const directory = freshDirectory();
    const first = await open(directory);
    const second = openGallery(directory, { model, mode: 'write', purpose: 'vkd index' });
    await expect(second).rejects.toBeInstanceOf(GalleryLockedError);
    await expect(second).rejects.toThrow(new RegExp(`process ${process.pid}`));
    // A reader is never blocked by the writer.
    expect(await (await open(directory, 'read')).count()).toBe(0);
    await first.close();
    // A lock left by a process that died (kill -9) is stale: the next writer takes it over.
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    const deadPid = Number(dead.stdout.toString());
    const holder = { pid: deadPid, hostname: os.hostname(), startedAt: 'then', command: 'vkd index' };
    fs.writeFileSync(path.join(directory, LOCK_FILE), JSON.stringify(holder));
    const taker = await open(directory);
    expect(taker.writable).toBe(true);
    await taker.close();
    expect(fs.existsSync(path.join(directory, LOCK_FILE))).toBe(false);
  });

  it('a writer in another process blocks building the index here', async () => {
    const directory = freshDirectory();
    await (await open(directory)).close();
    const lockFile = path.join(directory, LOCK_FILE);
    // A live process of this host holds the lock (as `vkd index` would while adding).
    const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.ppid))']);
    fs.writeFileSync(
      lockFile,
      JSON.stringify({
        pid: Number(child.stdout.toString()),
        hostname: os.hostname(),
        startedAt: 'now',
        command: 'add',
      }),
    );
    await expect(openGallery(directory, { model, mode: 'write', purpose: 'build index' })).rejects.toThrow(
      /being written by process \d+ .*\(add/,
    );
    expect(fs.existsSync(lockFile)).toBe(true); // a live holder's lock is left alone
  });

  it('refuses missing or damaged parts with a typed error and never touches foreign files', async () => {
    const foreign = freshDirectory();
    fs.mkdirSync(foreign, { recursive: true });
    fs.writeFileSync(path.join(foreign, 'notes.txt'), 'mine');
    await expect(openGallery(foreign, { model, mode: 'write' })).rejects.toThrow(/not empty and holds no gallery.json/);
    expect(fs.readdirSync(foreign)).toEqual(['notes.txt']);
    await expect(openGallery(foreign)).rejects.toThrow(/Not a gallery/);

    const directory = freshDirectory();
    const gallery = await open(directory);
    await gallery.add(records(5));
    await gallery.close();
    fs.writeFileSync(path.join(directory, 'gallery.json'), '{"format":"vkd-gallery"');
    await expect(openGallery(directory)).rejects.toBeInstanceOf(GalleryCorruptError);
    fs.writeFileSync(path.join(directory, 'gallery.json'), JSON.stringify({ format: 'other' }));
    await expect(openGallery(directory)).rejects.toThrow(/not a version-1 gallery manifest/);

    const missing = freshDirectory();
    await (await open(missing)).close();
    fs.rmSync(path.join(missing, 'tracklets.lance'), { recursive: true });
    await expect(openGallery(missing)).rejects.toThrow(/table "tracklets" is missing/);
  });

  it('approximate IVF-PQ search with exact re-scoring recalls the exact top 10', async () => {
    const directory = freshDirectory();
    const dimension = 32;
    const indexModel = { modelId: 'ivf', dimension };
    const data = syntheticEmbeddings({ tracklets: 3000, dimension, identities: 300, seed: 4 });
    const gallery = await openGallery(directory, { model: indexModel, mode: 'write' });
    galleries.push(gallery);
    const rows: TrackletRecord[] = Array.from({ length: 3000 }, (_, row) => ({
      trackletId: `t${row}`,
      embedding: data.features.subarray(row * dimension, (row + 1) * dimension),
      identity: data.identities[row] as number,
      camera: data.cameras[row] as number,
      framePaths: [],
    }));
    await gallery.add(rows);
    expect(await gallery.buildIndex({ partitions: 16, subVectors: 8 })).toEqual({ partitions: 16, subVectors: 8 });
    expect((await gallery.stats()).index).toMatchObject({ unindexedRows: 0 });
    let found = 0;
    let foundHalf = 0;
    let approximateDiffers = false;
    for (let query = 0; query < 40; query++) {
      const vector = rows[query * 7]?.embedding as Float32Array;
      const exact = await gallery.search(vector, { top: 10, exact: true });
      // Every partition probed, 100 PQ candidates re-scored with the full vectors: the exact top 10.
      const approximate = await gallery.search(vector, { top: 10, probes: 16, refineFactor: 10 });
      const half = await gallery.search(vector, { top: 10, probes: 8, refineFactor: 10 });
      const rough = await gallery.search(vector, { top: 10, probes: 1, refineFactor: 1 });
      const truth = new Set(exact.map((hit) => hit.trackletId));
      found += approximate.filter((hit) => truth.has(hit.trackletId)).length;
      foundHalf += half.filter((hit) => truth.has(hit.trackletId)).length;
      if (rough.some((hit, i) => hit.trackletId !== exact[i]?.trackletId)) approximateDiffers = true;
    }
    expect(found / 400).toBeGreaterThanOrEqual(0.99);
    expect(foundHalf / 400).toBeGreaterThanOrEqual(0.9);
    // The index is really used: with one probe and no re-scoring the ranking is not exact.
    expect(approximateDiffers).toBe(true);
  });

  it('evaluation through the index equals @vkd/metrics exact evaluation when every item is retrieved', async () => {
    const directory = freshDirectory();
    const dimension = 16;
    const data = syntheticEmbeddings({ tracklets: 180, dimension, identities: 30, noise: 1.5, seed: 9 });
    const galleryRows = 150;
    const gallery = await openGallery(directory, { model: { modelId: 'm', dimension }, mode: 'write' });
    galleries.push(gallery);
    await gallery.add(
      Array.from({ length: galleryRows }, (_, row) => ({
        trackletId: `g${row}`,
        embedding: data.features.subarray(row * dimension, (row + 1) * dimension),
        identity: data.identities[row] as number,
        camera: data.cameras[row] as number,
        framePaths: [],
      })),
    );
    const queryFeatures = data.features.slice(galleryRows * dimension);
    const queryIdentities = data.identities.slice(galleryRows);
    const queryCameras = data.cameras.slice(galleryRows);
    const reference = evaluateFeatures({
      queryFeatures,
      galleryFeatures: data.features.subarray(0, galleryRows * dimension),
      dim: dimension,
      queryIdentities,
      queryCameras,
      galleryIdentities: data.identities.subarray(0, galleryRows),
      galleryCameras: data.cameras.subarray(0, galleryRows),
      maxRank: 20,
    });
    const full = await evaluateThroughGallery(gallery, {
      queryFeatures,
      queryIdentities,
      queryCameras,
      top: galleryRows,
      exact: true,
      maxRank: 20,
    });
    expect(full.result.mAP).toBeCloseTo(reference.mAP, 6);
    expect(full.result.mAPTrapezoid).toBeCloseTo(reference.mAPTrapezoid, 6);
    expect(Array.from(full.result.cmc)).toEqual(Array.from(reference.cmc).map((v) => expect.closeTo(v, 6)));
    expect(reference.cmc[0]).toBeLessThan(1); // the data is not trivially separable
    // Truncated retrieval: rank-1..5 identical, mAP a lower bound.
    const truncated = await evaluateThroughGallery(gallery, {
      queryFeatures,
      queryIdentities,
      queryCameras,
      top: 5,
      exact: true,
    });
    expect(Array.from(truncated.result.cmc)).toEqual(
      Array.from(reference.cmc.subarray(0, 5)).map((v) => expect.closeTo(v, 6)),
    );
    expect(truncated.result.mAP).toBeLessThanOrEqual(reference.mAP + 1e-9);
  });
});
