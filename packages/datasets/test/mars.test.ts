import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DatasetFormatError, DatasetNotFoundError, InvalidOptionError } from '@vkd/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { CorruptImageError, formatStatistics, loadDataset } from '../src/index';
import { writeMatFile } from '../src/mat-file-writer';
import { SMALL_MARS, marsName, temporaryFolder, writeImage, writeMarsTree } from './helpers';

async function expectError<E extends Error>(
  promise: Promise<unknown>,
  type: new (...args: never[]) => E,
  message: RegExp,
): Promise<E> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(type);
  expect((error as Error).message).toMatch(message);
  return error as E;
}

describe('loadDataset("mars")', () => {
  let root: string;
  beforeAll(async () => {
    root = await temporaryFolder();
    await writeMarsTree(root, SMALL_MARS);
  });

  it('reads info/ (CRLF lists, MAT files), relabels train ids ascending, drops junk −1, keeps distractors 0', async () => {
    const dataset = await loadDataset('mars', { root });
    expect(dataset.name).toBe('mars');
    expect(dataset.protocol).toBe('official');
    // train original ids 7, 2, 9 → labels by ascending id: 2→0, 7→1, 9→2
    expect(dataset.train.map((t) => [t.identity, t.originalIdentity, t.camera, t.frames.length])).toEqual([
      [1, 7, 0, 3],
      [1, 7, 1, 2],
      [0, 2, 0, 4],
      [2, 9, 2, 2],
    ]);
    expect(dataset.numTrainIdentities).toBe(3);
    expect(dataset.train[0]?.frames).toEqual(
      [1, 2, 3].map((f) => join(root, 'bbox_train', '0007', marsName(7, 1, 1, f))),
    );
    // queries in query_IDX order; official gallery = all test rows but −1 (queries included)
    expect(dataset.query.map((t) => [t.identity, t.camera])).toEqual([
      [5, 0],
      [5, 1],
      [6, 2],
    ]);
    expect(dataset.gallery.map((t) => [t.identity, t.camera])).toEqual([
      [0, 1],
      [5, 0],
      [5, 1],
      [5, 1],
      [6, 2],
      [6, 0],
    ]);
    expect(dataset.gallery).toContain(dataset.query[0]);
    expect(dataset.numCameras).toBe(3);
    expect(dataset.statistics.gallery).toMatchObject({
      identities: 3,
      tracklets: 6,
      frames: 16,
      minFrames: 2,
      maxFrames: 4,
      cameras: 3,
    });
  });

  it("'torchreid' protocol removes the queries from the gallery", async () => {
    const dataset = await loadDataset('mars', { root, protocol: 'torchreid' });
    expect(dataset.protocol).toBe('torchreid');
    expect(dataset.gallery.map((t) => [t.identity, t.camera])).toEqual([
      [0, 1],
      [5, 1],
      [6, 0],
    ]);
    await expectError(
      loadDataset('mars', { root, protocol: 'matlab' as 'official' }),
      InvalidOptionError,
      /"official".*"torchreid"/,
    );
  });

  it('without info/ builds tracklets from file names and derives a documented split', async () => {
    const bare = await temporaryFolder();
    await writeMarsTree(bare, SMALL_MARS, { info: false });
    const dataset = await loadDataset('mars', { root: bare });
    expect(dataset.protocol).toMatch(
      /^derived split, not the dataset's official one \(no info\/: tracklets from file names/,
    );
    expect(formatStatistics(dataset)).not.toMatch(/protocol: official/);
    expect(dataset.train).toHaveLength(4);
    // pid 5: cameras 1, 2, 2 → queries are its first tracklet in camera 1 and in camera 2; pid 6 likewise; pid 0 never
    expect(dataset.query.map((t) => [t.identity, t.camera, t.frames.length])).toEqual([
      [5, 0, 3],
      [5, 1, 2],
      [6, 2, 4],
      [6, 0, 2],
    ]);
    expect(dataset.gallery).toHaveLength(6);
    expect(dataset.gallery.some((t) => t.identity === -1)).toBe(false);
    const torchreid = await loadDataset('mars', { root: bare, protocol: 'torchreid' });
    expect(torchreid.gallery.map((t) => [t.identity, t.camera])).toEqual([
      [0, 1],
      [5, 1],
    ]);
  });

  it('missing root, image folders or info files → DatasetNotFoundError naming them and the layout', async () => {
    const missing = await expectError(
      loadDataset('mars', { root: join(root, 'nope') }),
      DatasetNotFoundError,
      /Expected layout:[\s\S]*bbox_train/,
    );
    expect(missing.missing).toEqual([join(root, 'nope')]);
    const partial = await temporaryFolder();
    await writeMarsTree(partial, SMALL_MARS.slice(0, 5), { images: false });
    await rm(join(partial, 'info', 'query_IDX.mat'));
    await rm(join(partial, 'info', 'test_name.txt'));
    const error = await expectError(
      loadDataset('mars', { root: partial }),
      DatasetNotFoundError,
      /test_name\.txt, .*query_IDX\.mat/,
    );
    expect(error.missing).toEqual([join(partial, 'info', 'test_name.txt'), join(partial, 'info', 'query_IDX.mat')]);
  });

  it('malformed .mat / .txt → DatasetFormatError with file and line', async () => {
    const broken = await temporaryFolder();
    await writeMarsTree(broken, SMALL_MARS, { images: false });
    const info = (file: string) => join(broken, 'info', file);
    const original = await readFile(info('tracks_test_info.mat'));
    // row 3 ends past the end of test_name.txt
    await writeFile(
      info('tracks_test_info.mat'),
      writeMatFile([
        {
          name: 'track_test_info',
          rows: [
            [1, 2, -1, 1],
            [3, 5, 0, 2],
            [6, 999, 5, 1],
          ],
          storage: 'int32',
        },
      ]),
    );
    const range = await expectError(
      loadDataset('mars', { root: broken }),
      DatasetFormatError,
      /row 3 of track_test_info: \[start 6, end 999\]/,
    );
    expect(range.file).toBe(info('tracks_test_info.mat'));
    expect(range.line).toBe(3);
    await writeFile(
      info('tracks_test_info.mat'),
      writeMatFile([{ name: 'track_test_info', rows: [[1, 2, -1]], storage: 'int32' }]),
    );
    await expectError(
      loadDataset('mars', { root: broken }),
      DatasetFormatError,
      /dimensions \[1, 3\], expected \[N, 4\]/,
    );
    await writeFile(info('tracks_test_info.mat'), original.subarray(0, original.length - 5));
    await expectError(
      loadDataset('mars', { root: broken }),
      DatasetFormatError,
      /tracks_test_info\.mat.*(truncated|zlib)/,
    );
    await writeFile(info('tracks_test_info.mat'), original);
    // a name list line that does not belong to its track row
    const names = (await readFile(info('test_name.txt'), 'utf8')).split('\r\n');
    names[3] = marsName(8, 2, 1, 2);
    await writeFile(info('test_name.txt'), names.join('\r\n'));
    const mismatch = await expectError(
      loadDataset('mars', { root: broken }),
      DatasetFormatError,
      /belongs to pid 0008 camera 2 but track row 2/,
    );
    expect(mismatch.line).toBe(4);
    names[3] = 'garbage.jpg';
    await writeFile(info('test_name.txt'), names.join('\r\n'));
    await expectError(
      loadDataset('mars', { root: broken }),
      DatasetFormatError,
      /"garbage\.jpg" is not a MARS frame name/,
    );
    await writeMarsTree(broken, SMALL_MARS, { images: false });
    await writeFile(info('query_IDX.mat'), writeMatFile([{ name: 'query_IDX', rows: [[3, 40]] }]));
    const query = await expectError(
      loadDataset('mars', { root: broken }),
      DatasetFormatError,
      /query_IDX entry 2 is 40, expected a 1-based row of track_test_info \(1\.\.7\)/,
    );
    expect(query.line).toBe(2);
  });

  it('a bad file name without info/ → DatasetFormatError naming the file', async () => {
    const bare = await temporaryFolder();
    await writeMarsTree(bare, SMALL_MARS.slice(0, 2), { info: false });
    await writeImage(join(bare, 'bbox_train', '0007', 'oops.jpg'));
    await expectError(loadDataset('mars', { root: bare }), DatasetFormatError, /oops\.jpg: not a MARS frame name/);
  });

  it('an empty split → a clear error', async () => {
    const trainOnly = await temporaryFolder();
    await writeMarsTree(
      trainOnly,
      SMALL_MARS.filter((t) => t.split === 'train' || t.pid === -1),
    );
    await expectError(loadDataset('mars', { root: trainOnly }), DatasetFormatError, /the query split of mars is empty/);
    await expectError(
      loadDataset('mars', { root, minFrames: 5 }),
      DatasetFormatError,
      /train split of mars is empty after minFrames=5/,
    );
  });

  it('minFrames drops short tracklets', async () => {
    const dataset = await loadDataset('mars', { root, minFrames: 3 });
    expect(dataset.train.map((t) => t.frames.length)).toEqual([3, 4]);
    expect(dataset.numTrainIdentities).toBe(2);
  });
});

describe('validateFrames', () => {
  it("a corrupt or truncated JPEG → an error naming the file, or with onBadFrame 'skip' a count in the statistics", async () => {
    const root = await temporaryFolder();
    await writeMarsTree(root, SMALL_MARS);
    const truncated = join(root, 'bbox_train', '0002', marsName(2, 1, 1, 2));
    const bytes = await readFile(truncated);
    await writeFile(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const garbage = join(root, 'bbox_train', '0009', marsName(9, 3, 1, 1));
    await writeFile(garbage, 'not a jpeg');
    const error = await expectError(
      loadDataset('mars', { root, validateFrames: true }),
      DatasetFormatError,
      /cannot decode image/,
    );
    expect([truncated, garbage]).toContain(error.file);
    expect(error).toBeInstanceOf(CorruptImageError);
    expect(error.message).toMatch(/pass onBadFrame: 'skip' to drop and count bad frames/);
    const dataset = await loadDataset('mars', { root, validateFrames: true, onBadFrame: 'skip' });
    expect(dataset.statistics.skippedFrames).toBe(2);
    expect(dataset.statistics.skippedTracklets).toBe(0);
    const shortened = dataset.train.find((t) => t.originalIdentity === 2);
    expect(shortened?.frames).toHaveLength(3);
    expect(shortened?.metadata?.skippedFrames).toBe(1);
    expect(dataset.statistics.train.frames).toBe(9);
    await expectError(
      loadDataset('mars', { root, validateFrames: true, onBadFrame: 'ignore' as 'skip' }),
      InvalidOptionError,
      /onBadFrame/,
    );
  });
});
