import { join } from 'node:path';
import { DatasetFormatError, InvalidOptionError } from '@vkd/core';
import { finishDataset } from './finish-dataset';
import { listFolders, listImages, requirePaths } from './dataset-files';
import type { LoadDatasetOptions, ReidDataset, Tracklet } from './types';

/** Options of {@link loadDukeVideo}. */
export interface DukeVideoOptions extends LoadDatasetOptions {
  /**
   * `'folder'` (default): one tracklet per `<pid>/<tracklet>/` folder, no merging, no dropped frames.
   * `'vkd'`: the VKD authors' rule: all files of a split sorted by path, consecutive files of the same
   * (pid, camera) merged into one tracklet (reproduces their numbers; can merge tracklets).
   */
  readonly grouping?: 'folder' | 'vkd';
}

/** The files the DukeMTMC-VideoReID loader expects under its root, as shown in error messages and `vkd datasets`. */
export const DUKE_VIDEO_LAYOUT = `<root>/{train,query,gallery}/<PPPP>/<TTTT>/<PPPP>_C<c>_F<ffff>_X<xxxxx>.jpg
  (or the old naming <PPPP>C<c>F<ffff>X<xxxxx>.jpg)`;

/** `0001_C6_F0099_X30823.jpg` or `0001C6F0099X30823.jpg`: pid, camera 1–8, frame in tracklet, absolute frame. */
const DUKE_NAME = /^(\d+)_?C(\d+)_?F(\d+)_?X(\d+)\.jpe?g$/i;

interface DukeFrame {
  readonly pid: number;
  readonly camera: number;
  readonly frame: number;
  readonly path: string;
  readonly folder: string;
}

/**
 * Loads DukeMTMC-VideoReID (Wu et al., CVPR 2018). Reference: `Yu-Wu/DukeMTMC-VideoReID` README; torchreid
 * `dukemtmcvidreid.py`. Standard statistics: train 702 ids / 2,196 tracklets / 369,656 frames; query 702 / 702;
 * gallery 1,110 ids / 2,636 tracklets; 8 cameras. Frames are ordered by their `F` number (a tracklet may start at
 * F0002; nothing is dropped). Camera comes from the file name.
 * @throws DatasetNotFoundError (root or split folder missing), DatasetFormatError (bad name, mixed pid/camera).
 */
export async function loadDukeVideo(options: DukeVideoOptions): Promise<ReidDataset> {
  const grouping = options.grouping ?? 'folder';
  if (grouping !== 'folder' && grouping !== 'vkd')
    throw new InvalidOptionError('duke-video grouping', grouping, 'Use "folder" or "vkd".');
  await requirePaths(options.root, ['train', 'query', 'gallery'], DUKE_VIDEO_LAYOUT);
  const read = async (split: string) => {
    const frames = await readSplit(join(options.root, split));
    return grouping === 'folder' ? groupByFolder(frames) : groupVkd(frames);
  };
  return finishDataset(
    {
      name: 'duke-video',
      root: options.root,
      protocol: grouping === 'folder' ? 'official' : 'official (VKD grouping by pid and camera)',
      train: await read('train'),
      query: await read('query'),
      gallery: await read('gallery'),
    },
    options,
  );
}

async function readSplit(splitFolder: string): Promise<DukeFrame[]> {
  const frames: DukeFrame[] = [];
  for (const pidFolder of await listFolders(splitFolder)) {
    const stray = await listImages(join(splitFolder, pidFolder));
    if (stray.length > 0) {
      throw new DatasetFormatError(
        join(splitFolder, pidFolder, stray[0] as string),
        `frames must sit in a tracklet folder <pid>/<tracklet>/, not directly in ${pidFolder}/ (${stray.length} such frames)`,
      );
    }
    for (const trackletFolder of await listFolders(join(splitFolder, pidFolder))) {
      const folder = join(splitFolder, pidFolder, trackletFolder);
      for (const file of await listImages(folder)) {
        const path = join(folder, file);
        const match = DUKE_NAME.exec(file);
        if (!match)
          throw new DatasetFormatError(
            path,
            'not a DukeMTMC-VideoReID frame name (<pid>_C<cam>_F<frame>_X<abs>.jpg or <pid>C<cam>F<frame>X<abs>.jpg)',
          );
        const pid = Number(match[1]);
        if (pid !== Number(pidFolder))
          throw new DatasetFormatError(path, `identity ${match[1]} is stored in the folder of identity ${pidFolder}`);
        frames.push({ pid, camera: Number(match[2]), frame: Number(match[3]), path, folder });
      }
    }
  }
  return frames;
}

function toTracklet(frames: DukeFrame[]): Tracklet {
  const first = frames[0] as DukeFrame;
  return {
    frames: frames.map((f) => f.path),
    identity: first.pid,
    camera: first.camera - 1,
    metadata: { firstFrame: first.frame },
  };
}

function groupByFolder(frames: readonly DukeFrame[]): Tracklet[] {
  const folders = new Map<string, DukeFrame[]>();
  for (const frame of frames) {
    const list = folders.get(frame.folder) ?? [];
    list.push(frame);
    folders.set(frame.folder, list);
  }
  return [...folders.values()].map((list) => {
    const cameras = new Set(list.map((f) => f.camera));
    if (cameras.size > 1)
      throw new DatasetFormatError(
        (list[0] as DukeFrame).folder,
        `one tracklet folder holds frames of cameras ${[...cameras].join(', ')}`,
      );
    return toTracklet(list.sort((a, b) => a.frame - b.frame));
  });
}

function groupVkd(frames: readonly DukeFrame[]): Tracklet[] {
  const sorted = [...frames].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const tracklets: Tracklet[] = [];
  let current: DukeFrame[] = [];
  for (const frame of sorted) {
    const last = current[current.length - 1];
    if (last && (last.pid !== frame.pid || last.camera !== frame.camera)) {
      tracklets.push(toTracklet(current));
      current = [];
    }
    current.push(frame);
  }
  if (current.length > 0) tracklets.push(toTracklet(current));
  return tracklets;
}
