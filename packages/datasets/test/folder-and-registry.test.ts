import { join } from 'node:path';
import {
  DatasetFormatError,
  DatasetNotFoundError,
  DuplicateKeyError,
  InvalidOptionError,
  UnknownKeyError,
} from '@vkd/core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  computeStatistics,
  datasetEntry,
  datasetNames,
  findDatasetEntry,
  formatStatistics,
  loadDataset,
  registerDataset,
} from '../src/index';
import type { LoadDatasetOptions, ReidDataset } from '../src/index';
import { temporaryFolder, writeImage } from './helpers';

describe("loadDataset('folder')", () => {
  let root: string;
  beforeAll(async () => {
    root = await temporaryFolder();
    // identities alice, bob (train) and carol, dave (test) in cameras camA/camB
    for (const [person, cameras] of [
      ['alice', ['camA']],
      ['bob', ['camA', 'camB']],
      ['carol', ['camA', 'camB']],
      ['dave', ['camB']],
    ] as const) {
      for (const camera of cameras)
        await Promise.all(['img10.jpg', 'img2.jpg'].map((name) => writeImage(join(root, person, camera, name))));
    }
  });

  it('derives train/query/gallery from root/<identity>/<camera>/*.jpg', async () => {
    const dataset = await loadDataset('folder', { root });
    expect(dataset.protocol).toMatch(
      /^derived split, not the dataset's official one \(first 2 identities train.*gallery includes the queries/,
    );
    expect(formatStatistics(dataset)).not.toMatch(/protocol: official/);
    expect(dataset.train.map((t) => [t.originalIdentity, t.identity, t.camera])).toEqual([
      [1, 0, 0],
      [2, 1, 0],
      [2, 1, 1],
    ]);
    expect(dataset.train[0]?.frames.map((path) => path.slice(-9))).toEqual(['/img2.jpg', 'img10.jpg']);
    // carol (3) is seen by two cameras → two queries; dave (4) by one → none
    expect(dataset.query.map((t) => [t.identity, t.camera])).toEqual([
      [3, 0],
      [3, 1],
    ]);
    expect(dataset.gallery.map((t) => [t.identity, t.camera])).toEqual([
      [3, 0],
      [3, 1],
      [4, 1],
    ]);
  });

  it('uses given train/query/gallery folders, and tracklet folders with cameras from file names', async () => {
    const splits = await temporaryFolder();
    await writeImage(join(splits, 'train', '0003', 't1', 'x_c2_1.jpg'));
    await writeImage(join(splits, 'query', '0004', 't1', 'x_c1_1.jpg'));
    await writeImage(join(splits, 'gallery', '0004', 't2', 'x_c3_1.jpg'));
    const dataset = await loadDataset('folder', { root: splits, secondLevel: 'tracklet' });
    expect(dataset.protocol).toBe('given splits');
    expect([dataset.train[0]?.identity, dataset.query[0]?.identity, dataset.gallery[0]?.identity]).toEqual([0, 4, 4]);
    expect([dataset.train[0]?.camera, dataset.query[0]?.camera, dataset.gallery[0]?.camera]).toEqual([1, 0, 2]);
    await writeImage(join(splits, 'gallery', '0004', 't3', 'nocamera.jpg'));
    await expect(loadDataset('folder', { root: splits, secondLevel: 'tracklet' })).rejects.toThrow(
      /nocamera\.jpg: no camera found/,
    );
  });

  it('rejects stray images and bad options', async () => {
    const stray = await temporaryFolder();
    await writeImage(join(stray, 'alice', 'oops.jpg'));
    const error = await loadDataset('folder', { root: stray }).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(DatasetFormatError);
    expect((error as Error).message).toMatch(/oops\.jpg: images must sit one level deeper/);
    await expect(loadDataset('folder', { root, trainFraction: 1 })).rejects.toThrow(InvalidOptionError);
    await expect(loadDataset('folder', { root: join(root, 'missing') })).rejects.toThrow(DatasetNotFoundError);
    await expect(loadDataset('folder', { root, secondLevel: 'video' as 'camera' })).rejects.toThrow(/secondLevel/);
  });
});

describe('dataset registry', () => {
  it('an unknown name throws UnknownKeyError listing the valid names', async () => {
    const error = await loadDataset('market1501', { root: '/tmp' }).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(UnknownKeyError);
    expect((error as Error).message).toBe(
      'Unknown dataset "market1501". Expected one of: "mars", "duke-video", "veri-776", "atrw", "synthetic", "folder".',
    );
    await expect(loadDataset('mars', { root: '' })).rejects.toThrow(/loadDataset\("mars"\)\.root/);
  });

  it('registerDataset adds a loader; duplicates are rejected', async () => {
    const fake = async (options: LoadDatasetOptions): Promise<ReidDataset> => {
      const tracklet = { frames: [join(options.root, 'a.jpg')], identity: 0, camera: 0 };
      const splits = { train: [tracklet], query: [tracklet], gallery: [tracklet] };
      return {
        name: 'mine',
        root: options.root,
        ...splits,
        numTrainIdentities: 1,
        numCameras: 1,
        protocol: 'custom',
        statistics: computeStatistics(splits),
      };
    };
    registerDataset('mine', fake);
    expect(datasetNames()).toContain('mine');
    const dataset = await loadDataset('mine', { root: '/data/mine' });
    expect(dataset.protocol).toBe('custom');
    expect(() => registerDataset('mars', fake)).toThrow(DuplicateKeyError);
    expect(formatStatistics(dataset)).toMatch(/train\s+\|\s+1 \|\s+1 \|\s+1 \|\s+1\/1\/1\.0 \|\s+1/);
  });

  it("the table names each dataset's protocols, teacher defaults, load-existing options and preset hooks", async () => {
    expect(datasetEntry('veri-776').protocols).toEqual(['i2v', 'v2v', 'i2i', 'v2i']);
    expect(datasetEntry('veri-776').videoQueriesFromGallery).toBe(true);
    expect(datasetEntry('atrw').protocols).toEqual(['i2i']);
    expect(datasetEntry('mars').teacherDefaults?.('resnet18')).toEqual({
      epochs: 300,
      milestones: [50, 100, 150, 200, 250],
    });
    expect(datasetEntry('duke-video').teacherDefaults?.('resnet50')).toEqual({ epochs: 300, milestones: [100, 200] });
    expect(datasetEntry('veri-776').teacherDefaults?.('resnet18')).toMatchObject({
      identitiesPerBatch: 18,
      framesPerTracklet: 1,
      milestones: [200, 250],
    });
    expect(datasetEntry('synthetic').loadExisting).toEqual({ generate: false });
    expect(datasetEntry('mars').authors?.networks.map((network) => network.name)).toEqual([
      'resnet18',
      'resnet34',
      'resnet50',
      'resnet101',
      'resnet50bam',
      'densenet121',
      'mobilenet',
    ]);
    expect(datasetEntry('veri-776').authors?.imageSize).toEqual([224, 224]);
    expect(findDatasetEntry('nope')).toBeUndefined();
    expect(() => datasetEntry('nope')).toThrow(UnknownKeyError);
    const load = async () => {
      throw new Error('unused');
    };
    expect(() => registerDataset({ name: 'bad-protocols', description: '', load, protocols: [] })).toThrow(
      /bad-protocols.*protocols/,
    );
    expect(() =>
      registerDataset({ name: 'bad-protocols', description: '', load, protocols: ['x2y' as 'i2i'] }),
    ).toThrow(/Use a non-empty list of i2v, v2v, i2i, v2i/);
    expect(() =>
      registerDataset({ name: 'bad-loader', description: '', load: undefined as never, protocols: ['i2i'] }),
    ).toThrow(/bad-loader.*load/);
    expect(datasetNames()).not.toContain('bad-protocols');
    registerDataset({ name: 'entry-form', description: 'an entry', load, protocols: ['i2i'] });
    expect(datasetEntry('entry-form').protocols).toEqual(['i2i']);
    expect(datasetEntry('mine').protocols).toEqual(['i2v', 'v2v']);
  });

  it('formatStatistics reports skipped frames', () => {
    const statistics = {
      ...computeStatistics({ train: [], query: [], gallery: [] }),
      skippedFrames: 3,
      skippedTracklets: 1,
    };
    const text = formatStatistics({ name: 'x', protocol: 'p', statistics });
    expect(text).toContain('skipped bad frames: 3, tracklets left empty and dropped: 1');
    expect(text).toMatch(/train\s+\|\s+0 \|\s+0 \|\s+0 \|\s+- \|\s+0/);
  });
});

describe('cameraName', () => {
  it('names cameras as each dataset writes them', async () => {
    const { cameraName } = await import('../src/index');
    expect([0, 5].map((camera) => cameraName('mars', camera))).toEqual(['C1', 'C6']);
    expect(cameraName('duke-video', 7)).toBe('C8');
    expect(cameraName('veri-776', 19)).toBe('c020');
    expect(cameraName('folder', 2)).toBe('cam 2');
  });
});
