import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createRandom, InvalidOptionError, MAX_SEED } from '@vkd/core';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  formatStatistics,
  generateSyntheticDataset,
  loadDataset,
  planSyntheticDataset,
  VISIBLE_ATTRIBUTES,
  visibleSignature,
} from '../src/index';
import { readMatFile } from '../src/mat-file';
import { renderSyntheticFrame, type FramePose } from '../src/synthetic-render';
import { SMALL_MARS, temporaryFolder, writeMarsTree } from './helpers';

const SMALL = {
  identities: 8,
  cameras: 3,
  trackletsPerIdentity: 2,
  framesPerTracklet: 3,
  height: 32,
  width: 16,
  seed: 5,
} as const;

describe('generateSyntheticDataset', () => {
  let root: string;
  beforeAll(async () => {
    root = (await generateSyntheticDataset({ root: await temporaryFolder(), ...SMALL })).root;
  });

  it('writes the MARS layout with CRLF lists and MAT v5 info files', async () => {
    expect((await readdir(join(root, 'bbox_train'))).sort()).toEqual(['0001', '0002', '0003', '0004']);
    expect((await readdir(join(root, 'bbox_test'))).sort()).toEqual(['0005', '0006', '0007', '0008']);
    expect((await readdir(join(root, 'bbox_test', '0005'))).slice(0, 4)).toEqual([
      '0005C1T0001F001.jpg',
      '0005C1T0001F002.jpg',
      '0005C1T0001F003.jpg',
      '0005C1T0002F001.jpg',
    ]);
    const names = await readFile(join(root, 'info', 'train_name.txt'), 'utf8');
    expect(names.startsWith('0001C1T0001F001.jpg\r\n0001C1T0001F002.jpg\r\n')).toBe(true);
    expect(names.split('\r\n').filter(Boolean)).toHaveLength(4 * 3 * 2 * 3);
    const infoFile = join(root, 'info', 'tracks_test_info.mat');
    const info = readMatFile(await readFile(infoFile), infoFile).get('track_test_info');
    expect(info?.dims).toEqual([4 * 3 * 2, 4]);
    const queryFile = join(root, 'info', 'query_IDX.mat');
    const queries = readMatFile(await readFile(queryFile), queryFile).get('query_IDX');
    expect(Array.from(queries?.data ?? [])).toEqual([1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23]);
    const metadata = await sharp(join(root, 'bbox_test', '0005', '0005C1T0001F001.jpg')).metadata();
    expect([metadata.format, metadata.height, metadata.width, metadata.channels]).toEqual(['jpeg', 32, 16, 3]);
  });

  it("loads with loadDataset('mars') and loadDataset('synthetic')", async () => {
    const mars = await loadDataset('mars', { root });
    const synthetic = await loadDataset('synthetic', { root, generate: false });
    expect(synthetic.name).toBe('synthetic');
    expect(synthetic.train).toEqual(mars.train);
    expect(mars.numTrainIdentities).toBe(4);
    expect(mars.numCameras).toBe(3);
    expect(mars.query).toHaveLength(4 * 3);
    expect(mars.gallery).toHaveLength(4 * 3 * 2);
    expect(mars.query.every((q) => mars.gallery.includes(q))).toBe(true);
    const table = formatStatistics(synthetic);
    expect(table).toContain('=> Loaded synthetic (protocol: official)');
    expect(table).toMatch(/train\s+\|\s+4 \|\s+24 \|\s+72 \|\s+3\/3\/3\.0 \|\s+3/);
  });

  it('is deterministic for a seed and differs across seeds', async () => {
    const again = (await generateSyntheticDataset({ root: await temporaryFolder(), ...SMALL })).root;
    const other = (await generateSyntheticDataset({ root: await temporaryFolder(), ...SMALL, seed: 6 })).root;
    const file = join('bbox_test', '0006', '0006C2T0003F002.jpg');
    expect(Buffer.compare(await readFile(join(root, file)), await readFile(join(again, file)))).toBe(0);
    expect(Buffer.compare(await readFile(join(root, file)), await readFile(join(other, file)))).not.toBe(0);
    expect(await readFile(join(root, 'info', 'tracks_test_info.mat'))).toEqual(
      await readFile(join(again, 'info', 'tracks_test_info.mat')),
    );
  });

  it("loadDataset('synthetic') generates into an empty root, regenerates on request, never touches a foreign tree", async () => {
    const fresh = await temporaryFolder();
    const options = { identities: 4, cameras: 2, trackletsPerIdentity: 1, framesPerTracklet: 2, height: 16, width: 8 };
    const dataset = await loadDataset('synthetic', { root: fresh, generate: options });
    expect(dataset.statistics.train).toMatchObject({ identities: 2, tracklets: 4, frames: 8 });
    expect(dataset.query).toHaveLength(4);
    const manifest = await readFile(join(fresh, 'synthetic.json'), 'utf8');
    await loadDataset('synthetic', { root: fresh, generate: options });
    expect(await readFile(join(fresh, 'synthetic.json'), 'utf8')).toBe(manifest);
    await expect(
      loadDataset('synthetic', { root: fresh, generate: { ...options, identities: 6, trainIdentities: 2 } }),
    ).rejects.toThrow(
      /synthetic.json: holds a synthetic set generated with other options: identities 4 \(wanted 6\).*regenerate: true/,
    );
    const bigger = await loadDataset('synthetic', {
      root: fresh,
      generate: { ...options, identities: 6, trainIdentities: 2 },
      regenerate: true,
    });
    expect(bigger.statistics.gallery.identities).toBe(4);
    expect(bigger.statistics.train.frames).toBe(8);
    const foreign = await temporaryFolder();
    await writeMarsTree(foreign, SMALL_MARS, { images: false });
    const loaded = await loadDataset('synthetic', { root: foreign });
    expect(loaded.train).toHaveLength(4); // loaded as is, not regenerated
  });

  it('rejects out-of-range options', async () => {
    const folder = await temporaryFolder();
    await expect(generateSyntheticDataset({ root: folder, cameras: 12 })).rejects.toThrow(InvalidOptionError);
    await expect(generateSyntheticDataset({ root: folder, identities: 4, trainIdentities: 4 })).rejects.toThrow(
      /trainIdentities/,
    );
    await expect(generateSyntheticDataset({ root: folder, height: 10.5 })).rejects.toThrow(/height/);
  });

  it('refuses seeds outside 0..MAX_SEED, which would alias another seed (the state is 32 bits)', () => {
    expect(createRandom(-1).next()).toBe(createRandom(MAX_SEED).next());
    expect(createRandom(MAX_SEED + 2).next()).toBe(createRandom(1).next());
    for (const seed of [-1, MAX_SEED + 1, MAX_SEED + 2, 1e300])
      expect(() => planSyntheticDataset({ identities: 4, cameras: 2, seed }), String(seed)).toThrow(
        /Invalid generateSyntheticDataset\.seed: .*Use an integer in 0\.\.4294967295/,
      );
    expect(planSyntheticDataset({ identities: 4, cameras: 2, seed: MAX_SEED }).options.seed).toBe(MAX_SEED);
  });
});

describe('the synthetic set is a multi-view problem', () => {
  const plan = planSyntheticDataset({ identities: 40, cameras: 4, seed: 0 });
  const sharing = (view: number) =>
    plan.identities.filter((identity) =>
      plan.identities.some(
        (other) => other !== identity && visibleSignature(other, view) === visibleSignature(identity, view),
      ),
    ).length / plan.identities.length;

  it('what one viewpoint shows is shared by several identities; all views together are unique', () => {
    expect(plan.attributeSizes).toEqual({ upper: 2, lower: 2, hair: 1, pattern: 3, backpack: 3, bag: 3 });
    for (const view of [0, 2, 3]) expect(sharing(view), `view ${view}`).toBeGreaterThan(0.8);
    expect(sharing(1)).toBeGreaterThanOrEqual(0.3); // the left side shows the most (backpack strip and bag)
    const names = Object.keys(plan.attributeSizes) as (keyof typeof plan.attributeSizes)[];
    const allViews = plan.identities.map((identity) =>
      [0, 1, 2, 3].map((view) => visibleSignature(identity, view)).join(' | '),
    );
    expect(new Set(allViews).size).toBe(40);
    // two complementary views (front + left) already tell every identity apart
    expect(
      new Set(plan.identities.map((identity) => `${visibleSignature(identity, 0)} | ${visibleSignature(identity, 1)}`))
        .size,
    ).toBe(40);
    // every attribute is visible from some view, and upper/lower/hair from all (views of one person are correlated)
    expect(new Set(VISIBLE_ATTRIBUTES.flat())).toEqual(new Set(names));
    for (const shared of ['upper', 'lower', 'hair'] as const)
      expect(VISIBLE_ATTRIBUTES.every((visible) => visible.includes(shared))).toBe(true);
  });

  it('cameras see different viewpoint ranges with their own background, light and noise', () => {
    const centres = plan.cameras.map((camera) => camera.viewCentre);
    for (let c = 1; c < centres.length; c++)
      expect((centres[c] as number) - (centres[c - 1] as number)).toBeGreaterThan(60);
    expect(new Set(plan.cameras.map((camera) => camera.background.join())).size).toBe(4);
    expect(new Set(plan.cameras.map((camera) => camera.noise)).size).toBe(4);
  });

  it('pixels: identities that look alike from the front differ from the back (backpack) and the left (bag)', () => {
    const camera = { ...(plan.cameras[0] as (typeof plan.cameras)[number]), noise: 0 };
    const pair = plan.identities.flatMap((first) =>
      plan.identities
        .filter(
          (second) =>
            second !== first &&
            visibleSignature(first, 0) === visibleSignature(second, 0) &&
            first.attributes.backpack !== second.attributes.backpack,
        )
        .map((second) => [first, second] as const),
    )[0];
    expect(pair).toBeDefined();
    const [first, second] = pair as NonNullable<typeof pair>;
    const difference = (angle: number) => {
      const pose: FramePose = { angle, shiftX: 0, shiftY: 0, scale: 1, flicker: 1, noiseSeed: 1 };
      const a = renderSyntheticFrame({ ...first, stature: 1 }, camera, pose, 64, 32);
      const b = renderSyntheticFrame({ ...second, stature: 1 }, camera, pose, 64, 32);
      return a.reduce((sum, value, index) => sum + Math.abs(value - (b[index] as number)), 0) / a.length;
    };
    expect(difference(0)).toBe(0);
    expect(difference(180)).toBeGreaterThan(3);
  });
});
