import { join } from 'node:path';
import { DatasetFormatError, DatasetNotFoundError, InvalidOptionError } from '@vkd/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadDataset } from '../src/index';
import { temporaryFolder, writeImage } from './helpers';

const frame = (pid: string, camera: number, index: number, absolute: number, style: 'new' | 'old' = 'new') =>
  style === 'new'
    ? `${pid}_C${camera}_F${String(index).padStart(4, '0')}_X${absolute}.jpg`
    : `${pid}C${camera}F${String(index).padStart(4, '0')}X${absolute}.jpg`;

async function tracklet(
  root: string,
  split: string,
  pid: string,
  folder: string,
  camera: number,
  indices: number[],
  style: 'new' | 'old' = 'new',
) {
  await Promise.all(
    indices.map((index) =>
      writeImage(join(root, split, pid, folder, frame(pid, camera, index, 1000 + 12 * index, style))),
    ),
  );
}

describe("loadDataset('duke-video')", () => {
  let root: string;
  beforeAll(async () => {
    root = await temporaryFolder();
    // train: pid 0005 has two tracklets in camera 2 (must stay separate) and one in camera 6 starting at F0002
    await tracklet(root, 'train', '0005', '0001', 2, [1, 2, 3]);
    await tracklet(root, 'train', '0005', '0002', 2, [1, 2]);
    await tracklet(root, 'train', '0005', '0003', 6, [2, 3, 4, 10]);
    await tracklet(root, 'train', '0001', '0007', 1, [1, 2], 'old');
    await tracklet(root, 'query', '0009', '0001', 3, [1, 2]);
    await tracklet(root, 'gallery', '0009', '0002', 4, [1, 2, 3]);
    await tracklet(root, 'gallery', '0033', '0001', 4, [1]);
  });

  it('one tracklet per folder, frames by F number (a tracklet may start at F0002), camera from the name, both namings', async () => {
    const dataset = await loadDataset('duke-video', { root });
    expect(dataset.protocol).toBe('official');
    expect(dataset.train.map((t) => [t.originalIdentity, t.identity, t.camera, t.frames.length])).toEqual([
      [1, 0, 0, 2],
      [5, 1, 1, 3],
      [5, 1, 1, 2],
      [5, 1, 5, 4],
    ]);
    const startsLate = dataset.train[3];
    expect(startsLate?.frames.map((path) => path.split('_F')[1]?.slice(0, 4))).toEqual([
      '0002',
      '0003',
      '0004',
      '0010',
    ]);
    expect(startsLate?.metadata?.firstFrame).toBe(2);
    expect(dataset.query.map((t) => [t.identity, t.camera])).toEqual([[9, 2]]);
    expect(dataset.gallery.map((t) => [t.identity, t.camera, t.frames.length])).toEqual([
      [9, 3, 3],
      [33, 3, 1],
    ]);
    expect(dataset.numCameras).toBe(6);
  });

  it("'vkd' grouping merges consecutive files of the same pid and camera, as the VKD authors' loader", async () => {
    const dataset = await loadDataset('duke-video', { root, grouping: 'vkd' });
    expect(dataset.train.map((t) => [t.originalIdentity, t.camera, t.frames.length])).toEqual([
      [1, 0, 2],
      [5, 1, 5],
      [5, 5, 4],
    ]);
    await expect(loadDataset('duke-video', { root, grouping: 'glob' as 'vkd' })).rejects.toThrow(InvalidOptionError);
  });

  it('missing split folder → DatasetNotFoundError; bad names → DatasetFormatError naming the file', async () => {
    const partial = await temporaryFolder();
    await tracklet(partial, 'train', '0001', '0001', 1, [1]);
    const error = await loadDataset('duke-video', { root: partial }).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(DatasetNotFoundError);
    expect((error as DatasetNotFoundError).missing).toEqual([join(partial, 'query'), join(partial, 'gallery')]);
    const bad = await temporaryFolder();
    await tracklet(bad, 'train', '0001', '0001', 1, [1]);
    await tracklet(bad, 'query', '0002', '0001', 1, [1]);
    await tracklet(bad, 'gallery', '0002', '0002', 2, [1]);
    await writeImage(join(bad, 'gallery', '0002', '0002', 'frame.jpg'));
    await expect(loadDataset('duke-video', { root: bad })).rejects.toThrow(
      /frame\.jpg: not a DukeMTMC-VideoReID frame name/,
    );
    const moved = await temporaryFolder();
    await tracklet(moved, 'train', '0001', '0001', 1, [1]);
    await tracklet(moved, 'query', '0002', '0001', 1, [1]);
    await writeImage(join(moved, 'gallery', '0003', '0001', frame('0004', 1, 1, 5)));
    const wrongFolder = await loadDataset('duke-video', { root: moved }).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(wrongFolder).toBeInstanceOf(DatasetFormatError);
    expect((wrongFolder as Error).message).toMatch(/identity 0004 is stored in the folder of identity 0003/);
  });

  it('an empty split → a clear error', async () => {
    const empty = await temporaryFolder();
    await tracklet(empty, 'train', '0001', '0001', 1, [1]);
    await tracklet(empty, 'query', '0002', '0001', 1, [1]);
    await writeImage(join(empty, 'gallery', 'readme.png'));
    await expect(loadDataset('duke-video', { root: empty })).rejects.toThrow(
      /the gallery split of duke-video is empty/,
    );
  });
});
