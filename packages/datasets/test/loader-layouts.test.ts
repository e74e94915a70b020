import { cp, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDataset } from '../src/index';
import { readMatFile } from '../src/mat-file';
import { writeMatFile } from '../src/mat-file-writer';
import { marsName, SMALL_MARS, temporaryFolder, writeImage, writeMarsTree } from './helpers';

// Loaders follow symbolic links and refuse, naming the file and the reason, every layout they do not understand
// (issue #13 item 8: these were dropped, renamed or merged silently).
describe('symbolic links', () => {
  it('MARS without info/ counts linked frames and linked identity folders; a broken link and a loop are named', async () => {
    const store = await temporaryFolder();
    await writeMarsTree(store, SMALL_MARS, { info: false });
    const root = await temporaryFolder();
    await mkdir(join(root, 'bbox_train'), { recursive: true });
    await symlink(join(store, 'bbox_test'), join(root, 'bbox_test'));
    await symlink(join(store, 'bbox_train', '0007'), join(root, 'bbox_train', '0007')); // a linked folder
    await mkdir(join(root, 'bbox_train', '0002'));
    for (let frame = 1; frame <= 4; frame++) {
      const name = marsName(2, 1, 1, frame);
      await symlink(join(store, 'bbox_train', '0002', name), join(root, 'bbox_train', '0002', name)); // linked frames
    }
    const plain = await loadDataset('mars', { root: store });
    const linked = await loadDataset('mars', { root });
    expect(linked.statistics.train.frames).toBe(plain.statistics.train.frames - 2); // 0009 was not linked
    expect(linked.statistics.gallery).toEqual(plain.statistics.gallery);
    await symlink(join(store, 'nowhere.jpg'), join(root, 'bbox_train', '0002', marsName(2, 1, 1, 9)));
    await expect(loadDataset('mars', { root })).rejects.toThrow(/0002C1T0001F009.jpg: is a broken symbolic link/);
    await rm(join(root, 'bbox_train', '0002', marsName(2, 1, 1, 9)));
    await symlink(join(root, 'bbox_train', 'loop-b'), join(root, 'bbox_train', 'loop-a'));
    await symlink(join(root, 'bbox_train', 'loop-a'), join(root, 'bbox_train', 'loop-b'));
    await expect(loadDataset('mars', { root })).rejects.toThrow(/loop-[ab]: is a symbolic link loop/);
  });

  it('ATRW finds a listed image that is a link', async () => {
    const root = await temporaryFolder();
    await writeImage(join(root, 'store', 'a.jpg'));
    await mkdir(join(root, 'atrw_reid_train', 'train'), { recursive: true });
    await mkdir(join(root, 'atrw_anno_reid_train'), { recursive: true });
    await mkdir(join(root, 'atrw_reid_test', 'test'), { recursive: true });
    await symlink(join(root, 'store', 'a.jpg'), join(root, 'atrw_reid_train', 'train', '000001.jpg'));
    await writeImage(join(root, 'atrw_reid_train', 'train', '000002.jpg'));
    await writeFile(join(root, 'atrw_anno_reid_train', 'reid_list_train.csv'), '1,000001.jpg\n2,000002.jpg\n');
    await symlink(join(root, 'store', 'a.jpg'), join(root, 'atrw_reid_test', 'test', '000010.jpg'));
    await writeImage(join(root, 'atrw_reid_test', 'test', '000011.jpg'));
    await writeFile(
      join(root, 'gt_test_plain.json'),
      JSON.stringify([
        { imgid: 10, query: 'sing', frame: [1, 1, 1], entityid: 5 },
        { imgid: 11, query: 'sing', frame: [1, 2, 9], entityid: 5 },
      ]),
    );
    const dataset = await loadDataset('atrw', { root });
    expect(dataset.train).toHaveLength(2);
    expect(dataset.gallery).toHaveLength(2);
  });
});

describe('layouts that are refused instead of being dropped or renamed', () => {
  it('MARS: camera C0, duplicate query_IDX rows and overlapping track rows', async () => {
    const root = await temporaryFolder();
    await writeMarsTree(root, SMALL_MARS, { info: false });
    const c0 = join(root, 'bbox_train', '0007', marsName(7, 0, 9, 1));
    await writeImage(c0);
    await expect(loadDataset('mars', { root })).rejects.toThrow(
      /0007C0T0009F001.jpg: camera C0: MARS numbers cameras from 1/,
    );
    await rm(c0);

    const withInfo = await temporaryFolder();
    await writeMarsTree(withInfo, SMALL_MARS, { images: false });
    const queryFile = join(withInfo, 'info', 'query_IDX.mat');
    const queries = readMatFile(await readFile(queryFile), queryFile).get('query_IDX')?.data ?? [];
    const rows = Array.from(queries);
    await writeFile(
      queryFile,
      writeMatFile([{ name: 'query_IDX', rows: [[...rows, rows[0] as number]], storage: 'uint16' }]),
    );
    await expect(loadDataset('mars', { root: withInfo })).rejects.toThrow(
      new RegExp(`query_IDX entry ${rows.length + 1} repeats row ${rows[0]}`),
    );
    await writeFile(queryFile, writeMatFile([{ name: 'query_IDX', rows: [rows], storage: 'uint16' }]));
    const trackFile = join(withInfo, 'info', 'tracks_train_info.mat');
    // Rows of SMALL_MARS train: [1 3 7 1] [4 5 7 2] [6 9 2 1] [10 11 9 3]; make row 2 reach into row 3.
    await writeFile(
      trackFile,
      writeMatFile([
        {
          name: 'track_train_info',
          rows: [
            [1, 3, 7, 1],
            [4, 6, 7, 2],
            [6, 9, 2, 1],
            [10, 11, 9, 3],
          ],
          storage: 'int32',
        },
      ]),
    );
    await expect(loadDataset('mars', { root: withInfo })).rejects.toThrow(
      /row 3 of track_train_info \[6, 9\] overlaps row 2 \[4, 6\]/,
    );
  });

  it('Duke: frames directly in <pid>/ are refused, not ignored', async () => {
    const root = await temporaryFolder();
    for (const split of ['train', 'query', 'gallery'])
      await writeImage(join(root, split, '0005', '0001', '0005_C2_F0001_X1000.jpg'));
    await writeImage(join(root, 'train', '0005', '0005_C2_F0002_X1012.jpg'));
    await expect(loadDataset('duke-video', { root })).rejects.toThrow(
      /0005_C2_F0002_X1012.jpg: frames must sit in a tracklet folder <pid>\/<tracklet>\//,
    );
  });

  it('folder: identities "3" and "03" are refused, and so are train/ + query/ without gallery/', async () => {
    const root = await temporaryFolder();
    for (const identity of ['1', '2', '3', '03']) await writeImage(join(root, identity, 'cam1', 'a.jpg'));
    await expect(loadDataset('folder', { root })).rejects.toThrow(/identity folders "03" and "3" both mean identity 3/);
    const splits = await temporaryFolder();
    for (const split of ['train', 'query']) await writeImage(join(splits, split, '1', 'cam1', 'a.jpg'));
    await expect(loadDataset('folder', { root: splits })).rejects.toThrow(
      /has train\/ and query\/ but no gallery\/: give all three splits/,
    );
    await cp(join(splits, 'query'), join(splits, 'gallery'), { recursive: true });
    expect((await loadDataset('folder', { root: splits })).gallery).toHaveLength(1);
  });
});
