import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DatasetFormatError, DatasetNotFoundError } from '@vkd/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadDataset } from '../src/index';
import { temporaryFolder, writeImage } from './helpers';

/** imgid, entity, frame [a, b, f], query */
const PLAIN: [number, number, [number, number, number], 'sing' | 'multi'][] = [
  [10, 1, [1, 1, 100], 'sing'],
  [11, 1, [1, 1, 102], 'sing'], // near-duplicate of 10 (Δ = 2)
  [12, 1, [1, 1, 110], 'sing'], // same video, Δ = 10: a valid positive
  [13, 2, [2, 1, 50], 'sing'],
  [14, 2, [2, 1, 53], 'sing'], // Δ = 3: near-duplicate (inclusive)
  [20, 3, [5, 2, 7], 'multi'],
  [21, 3, [6, 3, 7], 'multi'], // other camera, same frame number: not a duplicate
];

async function writeAtrw(root: string) {
  await Promise.all(
    ['000001.jpg', '000002.jpg', '000003.jpg'].map((name) => writeImage(join(root, 'atrw_reid_train', 'train', name))),
  );
  await mkdir(join(root, 'atrw_anno_reid_train'), { recursive: true });
  await writeFile(
    join(root, 'atrw_anno_reid_train', 'reid_list_train.csv'),
    '7,000002.jpg\r\n3,000001.jpg\r\n7,000003.jpg\r\n',
  );
  await Promise.all(
    PLAIN.map(([imgid]) => writeImage(join(root, 'atrw_reid_test', 'test', `${String(imgid).padStart(6, '0')}.jpg`))),
  );
  await mkdir(join(root, 'annotations'), { recursive: true });
  await writeFile(
    join(root, 'annotations', 'gt_test_plain.json'),
    JSON.stringify(
      PLAIN.map(([imgid, entityid, frame, query]) => ({ imgid, entityid, frame, query })),
      null,
      1,
    ),
  );
}

describe("loadDataset('atrw')", () => {
  let root: string;
  beforeAll(async () => {
    root = await temporaryFolder();
    await writeAtrw(root);
  });

  it('train from the headerless csv (relabelled), single-camera queries, gallery = every test image, near-duplicates as junk', async () => {
    const dataset = await loadDataset('atrw', { root });
    expect(dataset.protocol).toBe('plain single-camera');
    expect(dataset.train.map((t) => [t.originalIdentity, t.identity])).toEqual([
      [7, 1],
      [3, 0],
      [7, 1],
    ]);
    expect(dataset.gallery).toHaveLength(7);
    expect(dataset.query.map((t) => t.metadata?.imageId)).toEqual([10, 11, 12, 13, 14]);
    expect(dataset.gallery[5]?.metadata).toEqual({ imageId: 20, video: '5-2', frame: 7, queryType: 'multi' });
    expect(dataset.gallery.map((t) => t.camera)).toEqual([0, 0, 0, 0, 0, 1, 2]);
    const evaluation = dataset.evaluation;
    expect(evaluation?.excludeSameCamera).toBe(false);
    expect(evaluation?.junkGallery(0)).toEqual([0, 1]); // itself and imgid 11; not 12 (Δ = 10)
    expect(evaluation?.junkGallery(2)).toEqual([2]);
    expect(evaluation?.junkGallery(3)).toEqual([3, 4]);
  });

  it("'cross-camera' and 'all' protocols, and a custom window", async () => {
    const cross = await loadDataset('atrw', { root, protocol: 'cross-camera' });
    expect(cross.query.map((t) => t.metadata?.imageId)).toEqual([20, 21]);
    expect(cross.evaluation?.junkGallery(0)).toEqual([5]);
    const all = await loadDataset('atrw', { root, protocol: 'all', nearDuplicateFrames: 10 });
    expect(all.query).toHaveLength(7);
    expect(all.evaluation?.junkGallery(0)).toEqual([0, 1, 2]);
    await expect(loadDataset('atrw', { root, protocol: 'wild' as 'all' })).rejects.toThrow(
      /"single-camera", "cross-camera" or "all"/,
    );
  });

  it('malformed csv / JSON → DatasetFormatError with file and line; missing files → DatasetNotFoundError', async () => {
    const broken = await temporaryFolder();
    await writeAtrw(broken);
    const csv = join(broken, 'atrw_anno_reid_train', 'reid_list_train.csv');
    await writeFile(csv, 'file,Class\n000001.jpg,3\n');
    const header = await loadDataset('atrw', { root: broken }).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(header).toBeInstanceOf(DatasetFormatError);
    expect((header as DatasetFormatError).line).toBe(1);
    expect((header as Error).message).toMatch(/expected "entityid,filename" \(no header\), found "file,Class"/);
    await writeFile(csv, '3,000001.jpg\n4,000009.jpg\n');
    await expect(loadDataset('atrw', { root: broken })).rejects.toThrow(DatasetNotFoundError);
    await writeFile(csv, '3,000001.jpg\n');
    const json = join(broken, 'annotations', 'gt_test_plain.json');
    await writeFile(
      json,
      '[\n {"imgid": 10, "entityid": 1, "frame": [1, 1, 100], "query": "sing"},\n {"imgid": 11, "entityid": 1, "frame": [1, 1], "query": "sing"}\n]',
    );
    const entry = await loadDataset('atrw', { root: broken }).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(entry).toBeInstanceOf(DatasetFormatError);
    expect((entry as DatasetFormatError).line).toBe(3);
    expect((entry as Error).message).toMatch(/entry 1 is not \{imgid/);
    await writeFile(json, '{ not json');
    await expect(loadDataset('atrw', { root: broken })).rejects.toThrow(/invalid JSON/);
    await writeFile(json, JSON.stringify([{ imgid: 99, entityid: 1, frame: [1, 1, 1], query: 'sing' }]));
    await expect(loadDataset('atrw', { root: broken })).rejects.toThrow(/000099\.jpg/);
    await rm(json);
    const missing = await loadDataset('atrw', { root: broken }).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(missing).toBeInstanceOf(DatasetNotFoundError);
    expect((missing as Error).message).toMatch(/gt_test_plain\.json[\s\S]*Expected layout/);
  });
});
