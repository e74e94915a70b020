import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import { afterAll } from 'vitest';
import { writeMatFile } from '../src/mat-file-writer';

const created: string[] = [];

/** A fresh temporary folder, removed after the test file. */
export async function temporaryFolder(prefix = 'vkd-datasets-'): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), prefix));
  created.push(folder);
  return folder;
}

afterAll(async () => {
  await Promise.all(created.splice(0).map((folder) => rm(folder, { recursive: true, force: true })));
});

/** Writes a solid-colour JPEG (or PNG when the path ends in .png), creating folders. */
export async function writeImage(
  path: string,
  colour: readonly [number, number, number] = [120, 60, 200],
  size: readonly [number, number] = [8, 4],
): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const [height, width] = size;
  const image = sharp({
    create: { width, height, channels: 3, background: { r: colour[0], g: colour[1], b: colour[2] } },
  });
  await (path.endsWith('.png') ? image.png() : image.jpeg({ quality: 95 })).toFile(path);
}

/** A MARS tracklet for {@link writeMarsTree}: pid (−1 junk, 0 distractor), camera 1..6, frames, split. */
export interface MarsFixtureTracklet {
  pid: number;
  camera: number;
  frames: number;
  split: 'train' | 'test';
  query?: boolean;
}

export function marsName(pid: number, camera: number, tracklet: number, frame: number): string {
  const pidText = pid === -1 ? '00-1' : String(pid).padStart(4, '0');
  return `${pidText}C${camera}T${String(tracklet).padStart(4, '0')}F${String(frame).padStart(3, '0')}.jpg`;
}

/**
 * Writes a MARS tree (images + info/ with CRLF lists and MAT files from our writer).
 * @returns the ordered test rows (1-based row numbers of queries in `queries`).
 */
export async function writeMarsTree(
  root: string,
  tracklets: readonly MarsFixtureTracklet[],
  options: { info?: boolean; images?: boolean } = {},
): Promise<void> {
  const counter = new Map<number, number>();
  const rows: Record<'train' | 'test', number[][]> = { train: [], test: [] };
  const names: Record<'train' | 'test', string[]> = { train: [], test: [] };
  const queries: number[] = [];
  for (const tracklet of tracklets) {
    const number = (counter.get(tracklet.pid) ?? 0) + 1;
    counter.set(tracklet.pid, number);
    const folder = join(root, tracklet.split === 'train' ? 'bbox_train' : 'bbox_test');
    const frameNames = Array.from({ length: tracklet.frames }, (_, f) =>
      marsName(tracklet.pid, tracklet.camera, number, f + 1),
    );
    const list = names[tracklet.split];
    rows[tracklet.split].push([list.length + 1, list.length + frameNames.length, tracklet.pid, tracklet.camera]);
    list.push(...frameNames);
    if (tracklet.query) queries.push(rows.test.length);
    if (options.images ?? true) {
      await Promise.all(frameNames.map((name) => writeImage(join(folder, name.slice(0, 4), name))));
    }
  }
  await mkdir(join(root, 'bbox_train'), { recursive: true });
  await mkdir(join(root, 'bbox_test'), { recursive: true });
  if (options.info ?? true) {
    await mkdir(join(root, 'info'), { recursive: true });
    for (const split of ['train', 'test'] as const) {
      await writeFile(join(root, 'info', `${split}_name.txt`), names[split].map((name) => `${name}\r\n`).join(''));
      await writeFile(
        join(root, 'info', `tracks_${split}_info.mat`),
        writeMatFile([{ name: `track_${split}_info`, rows: rows[split], storage: 'int32' }]),
      );
    }
    await writeFile(
      join(root, 'info', 'query_IDX.mat'),
      writeMatFile([{ name: 'query_IDX', rows: [queries], storage: 'uint16' }]),
    );
  }
}

/** A small valid MARS fixture: 3 train ids, test ids 5 and 6 in two cameras, distractors (0) and junk (−1). */
export const SMALL_MARS: readonly MarsFixtureTracklet[] = [
  { pid: 7, camera: 1, frames: 3, split: 'train' },
  { pid: 7, camera: 2, frames: 2, split: 'train' },
  { pid: 2, camera: 1, frames: 4, split: 'train' },
  { pid: 9, camera: 3, frames: 2, split: 'train' },
  { pid: -1, camera: 1, frames: 2, split: 'test' },
  { pid: 0, camera: 2, frames: 3, split: 'test' },
  { pid: 5, camera: 1, frames: 3, split: 'test', query: true },
  { pid: 5, camera: 2, frames: 2, split: 'test', query: true },
  { pid: 5, camera: 2, frames: 2, split: 'test' },
  { pid: 6, camera: 3, frames: 4, split: 'test', query: true },
  { pid: 6, camera: 1, frames: 2, split: 'test' },
];
