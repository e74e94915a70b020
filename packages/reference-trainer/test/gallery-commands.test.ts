import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { RANKED_COLOURS, RANKED_LAYOUT, rankedCellOrigin } from '../src/report/ranked-grid';
import { syntheticSetInTempFolder } from './support/synthetic-set';
import { vkd } from './support/vkd';

const RUN = ['--device', 'wasm', '--threads', '1', '--test-frames', '2'];
const STAGE = [
  '--backbone',
  'resnet18',
  '--base-width',
  '4',
  '--identities-per-batch',
  '2',
  '--instances-per-identity',
  '1',
  '--frames-per-tracklet',
  '2',
  '--epochs',
  '1',
  '--eval-every',
  '0',
  '--save-every',
  '1',
];
let directory: string;
let data: string;
let model: string;
let db: string;

beforeAll(async () => {
  ({ directory, root: data } = await syntheticSetInTempFolder('vkd-gallery-cli-', {
    identities: 8,
    cameras: 2,
    framesPerTracklet: 2,
    height: 64,
    width: 32,
  }));
  db = join(directory, 'db');
  model = join(directory, 'teacher');
  const teacher = await vkd([
    'train-teacher',
    '--dataset',
    'mars',
    '--root',
    data,
    '--out',
    model,
    '--height',
    '64',
    '--width',
    '32',
    ...RUN,
    ...STAGE,
    '--imagenet-weights',
    'none',
  ]);
  expect(teacher.code, teacher.stderr).toBe(0);
}, 180_000);

describe('vkd index / search / evaluate --gallery-db', () => {
  it('indexes the gallery split, resumes without duplicates, and evaluates through it like the exact ranking', async () => {
    const indexed = await vkd(['index', '--model', model, '--dataset', 'mars', '--root', data, '--db', db, ...RUN]);
    expect(indexed.code, indexed.stderr).toBe(0);
    const count = Number(/holds (\d+) tracklets/.exec(indexed.stdout)?.[1]);
    expect(count).toBeGreaterThan(0);
    expect(indexed.stdout).toContain('no approximate index');
    // A second run (e.g. after an interruption) adds nothing: every tracklet id is already stored.
    const again = await vkd(['index', '--model', model, '--dataset', 'mars', '--root', data, '--db', db, ...RUN]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`indexing 0 gallery tracklets`);
    expect(again.stdout).toContain(`(${count} already there, skipped)`);
    expect(again.stdout).toContain(`holds ${count} tracklets`);

    const out = join(directory, 'eval');
    const evaluation = await vkd([
      'evaluate',
      '--model',
      model,
      '--dataset',
      'mars',
      '--root',
      data,
      '--gallery-db',
      db,
      '--out',
      out,
      '--gallery-frames',
      '1',
      ...RUN,
    ]);
    expect(evaluation.code, evaluation.stderr).toBe(0);
    expect(evaluation.stdout).toContain('through the gallery database');
    const metrics = JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8')).model;
    // Every gallery tracklet is retrieved (top = gallery size) and the small gallery is searched exactly: the index
    // ranks exactly as @vkd/metrics does in memory.
    for (const protocol of ['i2v', 'v2v'] as const) {
      expect(metrics.galleryDb[protocol].rank1).toBeCloseTo(metrics[protocol].rank1, 6);
      expect(metrics.galleryDb[protocol].mAP).toBeCloseTo(metrics[protocol].mAP, 6);
    }
  }, 180_000);

  it('searches with query images, writes results and a ranked picture, and refuses another model', async () => {
    const galleryRoot = join(data, 'bbox_test');
    const identityFolder = (await readdir(galleryRoot)).sort()[1] as string;
    const frames = (await readdir(join(galleryRoot, identityFolder))).sort().slice(0, 2);
    const images = frames.map((frame) => join(galleryRoot, identityFolder, frame));
    const out = join(directory, 'search');
    const identity = Number(identityFolder);
    const search = await vkd([
      'search',
      '--db',
      db,
      '--model',
      model,
      '--image',
      ...images,
      '--top',
      '3',
      '--identity',
      String(identity),
      '--out',
      out,
      '--ranked',
      '--device',
      'wasm',
      '--threads',
      '1',
    ]);
    expect(search.code, search.stderr).toBe(0);
    const results = JSON.parse(await readFile(join(out, 'search.json'), 'utf8'));
    expect(results.hits).toHaveLength(3);
    // The query frames are a gallery tracklet's own: it is the nearest hit.
    expect(results.hits[0].framePaths[0]).toBe(images[0]);
    expect(results.hits[0].identity).toBe(identity);
    expect(search.stdout).toMatch(/rank\s+distance\s+identity/);
    const picture = sharp(join(out, 'search.png'));
    const { data: pixels, info } = await picture.raw().toBuffer({ resolveWithObject: true });
    const at = (x: number, y: number) =>
      Array.from(pixels.subarray((y * info.width + x) * info.channels, (y * info.width + x) * info.channels + 3));
    const firstHit = rankedCellOrigin(RANKED_LAYOUT, 2, 0, 2);
    expect(at(firstHit.x + 1, firstHit.y + 1)).toEqual([...RANKED_COLOURS.correct]);

    const other = join(directory, 'other');
    const teacher = await vkd([
      'train-teacher',
      '--dataset',
      'mars',
      '--root',
      data,
      '--out',
      other,
      '--height',
      '64',
      '--width',
      '32',
      ...RUN,
      ...STAGE,
      '--seed',
      '5',
      '--imagenet-weights',
      'none',
    ]);
    expect(teacher.code, teacher.stderr).toBe(0);
    const refused = await vkd([
      'search',
      '--db',
      db,
      '--model',
      other,
      '--image',
      images[0] as string,
      '--device',
      'wasm',
    ]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/holds embeddings of model "teacher@[0-9a-f]+".*not of model "other@[0-9a-f]+"/);
    const missing = await vkd(['search', '--db', db, '--model', model, '--image', join(directory, 'nope.jpg')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('Not a file');
  }, 240_000);

  it('refuses a second writer naming the first, and a damaged database', async () => {
    const lock = join(db, 'writer.lock');
    await writeFile(
      lock,
      JSON.stringify({
        pid: process.pid,
        hostname: (await import('node:os')).hostname(),
        startedAt: 'now',
        command: 'vkd index (other)',
      }),
    );
    const blocked = await vkd(['index', '--model', model, '--dataset', 'mars', '--root', data, '--db', db, ...RUN]);
    expect(blocked.code).not.toBe(0);
    expect(blocked.stderr).toContain(`is being written by process ${process.pid}`);
    await rm(lock);
    await rm(join(db, 'tracklets.lance'), { recursive: true });
    const galleryRoot = join(data, 'bbox_test');
    const folder = (await readdir(galleryRoot)).sort()[1] as string;
    const image = join(galleryRoot, folder, (await readdir(join(galleryRoot, folder))).sort()[0] as string);
    const damaged = await vkd(['search', '--db', db, '--model', model, '--image', image, '--device', 'wasm']);
    expect(damaged.code).not.toBe(0);
    expect(damaged.stderr).toContain('the table "tracklets" is missing');
    expect(damaged.stderr).not.toMatch(/unexpected error|at .*\.ts:\d+/);
  }, 60_000);
});
