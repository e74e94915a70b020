import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DatasetFormatError, DatasetNotFoundError } from '@vkd/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadDataset } from '../src/index';
import { temporaryFolder, writeImage } from './helpers';

const TRAIN = [
  '0001_c001_00016450_0.jpg',
  '0001_c001_00016460_0.jpg',
  '0001_c002_00017000_0.jpg',
  '0004_c003_00010000_0.jpg',
];
const QUERY = ['0002_c002_00030600_0.jpg', '0007_c004_00050000_0.jpg'];
const TEST = [
  '0002_c002_00030600_0.jpg',
  '0002_c002_00030605_1.jpg',
  '0002_c005_00031000_0.jpg',
  '0007_c004_00050000_0.jpg',
  '0007_c006_00052000_0.jpg',
  '0009_c002_00030700_0.jpg',
];

async function writeVeri(root: string, options: { trackLines?: string[] } = {}) {
  for (const [folder, names] of [
    ['image_train', TRAIN],
    ['image_query', QUERY],
    ['image_test', TEST],
  ] as const) {
    await Promise.all(names.map((name) => writeImage(join(root, folder, name))));
  }
  // name_train.txt deliberately unsorted: grouping must not rely on file order
  await writeFile(join(root, 'name_train.txt'), [TRAIN[2], TRAIN[0], TRAIN[3], TRAIN[1]].join('\n'));
  await writeFile(join(root, 'name_query.txt'), `${QUERY.join('\r\n')}\r\n`);
  await writeFile(join(root, 'name_test.txt'), `${TEST.join('\n')}\n`);
  // first line: key token + trailing space (as VKD expects); second: no trailing space; third: starts with an image
  const trackLines = options.trackLines ?? [
    `0002_c002_t1 ${TEST[0]} ${TEST[1]} `,
    `0002_c005_t2 ${TEST[2]}`,
    `${TEST[3]}`,
    `0007_c006 ${TEST[4]}`,
    `0009_c002 ${TEST[5]}`,
  ];
  await writeFile(join(root, 'test_track.txt'), `${trackLines.join('\n')}\n`);
}

describe("loadDataset('veri-776')", () => {
  let root: string;
  beforeAll(async () => {
    root = await temporaryFolder();
    await writeVeri(root);
  });

  it("'track' view, trackTokens 'names': train = vehicle × camera, gallery = test_track.txt lines (with or without key token / trailing space)", async () => {
    const dataset = await loadDataset('veri-776', { root, trackTokens: 'names' });
    expect(dataset.protocol).toBe('track (I2V/V2V)');
    expect(dataset.train.map((t) => [t.originalIdentity, t.identity, t.camera, t.frames.length])).toEqual([
      [1, 0, 0, 2],
      [1, 0, 1, 1],
      [4, 1, 2, 1],
    ]);
    expect(dataset.train[0]?.frames).toEqual([
      join(root, 'image_train', TRAIN[0] as string),
      join(root, 'image_train', TRAIN[1] as string),
    ]);
    expect(dataset.gallery.map((t) => [t.identity, t.camera, t.frames.length])).toEqual([
      [2, 1, 2],
      [2, 4, 1],
      [7, 3, 1],
      [7, 5, 1],
      [9, 1, 1],
    ]);
    expect(dataset.query.map((t) => [t.identity, t.camera, t.metadata?.galleryTrack])).toEqual([
      [2, 1, 0],
      [7, 3, 2],
    ]);
    expect(dataset.evaluation).toBeUndefined();
    expect(dataset.numCameras).toBe(6);
  });

  it("'image' view: gallery = name_test.txt order, gt_index/jk_index exposed 1-based → 0-based (zeros ignored)", async () => {
    await writeFile(join(root, 'gt_index.txt'), '3 0\n5\n');
    await writeFile(join(root, 'jk_index.txt'), '1 2\n4\n');
    const dataset = await loadDataset('veri-776', { root, view: 'image' });
    expect(dataset.protocol).toBe('image (I2I)');
    expect(dataset.gallery).toHaveLength(6);
    expect(dataset.gallery[3]?.frames).toEqual([join(root, 'image_test', TEST[3] as string)]);
    expect(dataset.evaluation?.excludeSameCamera).toBe(true);
    expect(dataset.evaluation?.junkGallery(0)).toEqual([0, 1]);
    expect(dataset.evaluation?.junkGallery(1)).toEqual([3]);
    expect(dataset.evaluation?.goodGallery?.(0)).toEqual([2]);
    await writeFile(join(root, 'jk_index.txt'), '1 2\n4\n3\n');
    await expect(loadDataset('veri-776', { root, view: 'image' })).rejects.toThrow(
      /jk_index\.txt: has 3 lines but name_query\.txt lists 2 queries/,
    );
    await writeFile(join(root, 'jk_index.txt'), '1 x\n4\n');
    const error = await loadDataset('veri-776', { root, view: 'image' }).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(DatasetFormatError);
    expect((error as DatasetFormatError).line).toBe(1);
    await writeFile(join(root, 'jk_index.txt'), '1 7\n4\n');
    await expect(loadDataset('veri-776', { root, view: 'image' })).rejects.toThrow(
      /"7" is not a 1-based index into the 6 names/,
    );
    await rm(join(root, 'jk_index.txt'));
    await rm(join(root, 'gt_index.txt'));
  });

  it('camera_ID.txt is checked when present', async () => {
    await writeFile(join(root, 'camera_ID.txt'), 'c001 c002 c003 c004 c005 c006\n');
    await expect(loadDataset('veri-776', { root, trackTokens: 'names' })).resolves.toBeDefined();
    await writeFile(join(root, 'camera_ID.txt'), 'c001 c002 c003\n');
    await expect(loadDataset('veri-776', { root, trackTokens: 'names' })).rejects.toThrow(
      /camera c004 of 0007_c004_00050000_0\.jpg is not listed/,
    );
    await rm(join(root, 'camera_ID.txt'));
  });

  it('bad lines → DatasetFormatError with file and line; missing files → DatasetNotFoundError', async () => {
    const broken = await temporaryFolder();
    await writeVeri(broken, { trackLines: [`0002_c002 ${TEST[0]}`, `0002_c002 ${TEST[0]} ${TEST[2]}`] });
    const mixed = await loadDataset('veri-776', { root: broken, trackTokens: 'names' }).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(mixed).toBeInstanceOf(DatasetFormatError);
    expect((mixed as DatasetFormatError).line).toBe(2);
    expect((mixed as Error).message).toMatch(/test_track\.txt:2: track mixes/);
    await writeVeri(broken, { trackLines: ['0002_c002 9999_c002_1_0.jpg'] });
    await expect(loadDataset('veri-776', { root: broken, trackTokens: 'names' })).rejects.toThrow(
      /"9999_c002_1_0\.jpg" is not listed in name_test\.txt/,
    );
    await writeVeri(broken);
    await writeFile(join(broken, 'name_query.txt'), 'car.jpg\n');
    await expect(loadDataset('veri-776', { root: broken, trackTokens: 'names' })).rejects.toThrow(
      /name_query\.txt:1: "car\.jpg" is not a VeRi image name/,
    );
    await rm(join(broken, 'test_track.txt'));
    const missing = await loadDataset('veri-776', { root: broken, trackTokens: 'names' }).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(missing).toBeInstanceOf(DatasetNotFoundError);
    expect((missing as DatasetNotFoundError).missing).toEqual([join(broken, 'test_track.txt')]);
  });

  it("trackTokens 'vkd' (default): the authors' rule drops the first and the last token of every line", async () => {
    const authors = await temporaryFolder();
    // Key, names, trailing space (the last token is empty): every name kept. Without the trailing space the last real
    // name is dropped, exactly as data/veri/data_manager.py does, and recorded.
    await writeVeri(authors, {
      trackLines: [
        `0002_c002_t1 ${TEST[0]} ${TEST[1]} `,
        `0002_c005_t2 ${TEST[2]} `,
        `0007_c004 ${TEST[3]} `,
        `0007_c006 ${TEST[4]} ${TEST[4]}`,
        `0009_c002 ${TEST[5]} `,
      ],
    });
    const dataset = await loadDataset('veri-776', { root: authors });
    expect(dataset.gallery.map((t) => [t.identity, t.camera, t.frames.length])).toEqual([
      [2, 1, 2],
      [2, 4, 1],
      [7, 3, 1],
      [7, 5, 1],
      [9, 1, 1],
    ]);
    expect(dataset.gallery[3]?.metadata?.droppedLastImage).toBe(TEST[4]);
    expect(dataset.gallery[0]?.metadata?.droppedLastImage).toBeUndefined();
    // CRLF line endings: only the line ending goes, the trailing space stays.
    await writeFile(join(authors, 'test_track.txt'), `0002_c002_t1 ${TEST[0]} \r\n0009_c002 ${TEST[5]} \r\n`);
    expect((await loadDataset('veri-776', { root: authors })).gallery.map((t) => t.frames.length)).toEqual([1, 1]);
    // What the authors' rule cannot read, each with the line and the way out.
    await writeFile(join(authors, 'test_track.txt'), `0002_c005_t2 ${TEST[2]}\n`);
    await expect(loadDataset('veri-776', { root: authors })).rejects.toThrow(
      /test_track\.txt:1: track line has no image once the authors' rule drops its first and last token \(it dropped 0002_c005_00031000_0\.jpg: no trailing space\?\); load with trackTokens: 'names'/,
    );
    await writeFile(join(authors, 'test_track.txt'), `0002_c002 ${TEST[0]}  ${TEST[1]} \n`);
    await expect(loadDataset('veri-776', { root: authors })).rejects.toThrow(
      /test_track\.txt:1: has two consecutive spaces/,
    );
    await writeFile(join(authors, 'test_track.txt'), `track ${TEST[0]} \n`);
    await expect(loadDataset('veri-776', { root: authors })).rejects.toThrow(
      /the first token "track" is not a track key/,
    );
    await expect(loadDataset('veri-776', { root: authors, trackTokens: 'all' as never })).rejects.toThrow(
      /Invalid veri-776 trackTokens: "all"/,
    );
  });
});
