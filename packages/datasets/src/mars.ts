import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DatasetFormatError, InvalidOptionError } from '@vkd/core';
import { finishDataset } from './finish-dataset';
import { listFolders, listImages, pathExists, readLines, requirePaths, type NumberedLine } from './dataset-files';
import { matrixRows, readMatFile } from './mat-file';
import { deriveQueryGallery, derivedSplitProtocol } from './query-gallery';
import type { LoadDatasetOptions, ReidDataset, Tracklet } from './types';

/** MARS gallery composition (see `datasets-and-evaluation.md` §3.6). */
export type MarsProtocol = 'official' | 'torchreid';

/** Options of {@link loadMars}. */
export interface MarsOptions extends LoadDatasetOptions {
  /**
   * `'official'` (default): gallery = every test tracklet including the queries, as the MATLAB script and VKD do
   * (each query's own tracklet is junk by the same-id-same-camera rule). `'torchreid'`: gallery = test − query.
   */
  readonly protocol?: MarsProtocol;
  /** Name reported in the dataset (default `'mars'`; the synthetic set reuses this loader). */
  readonly name?: string;
}

/** The files the MARS loader expects under its root, as shown in error messages and `vkd datasets`. */
export const MARS_LAYOUT = `<root>/
  bbox_train/<PPPP>/<PPPP>C<c>T<tttt>F<fff>.jpg
  bbox_test/<PPPP>/...                 (0000 = distractors, 00-1 = junk)
  info/train_name.txt test_name.txt tracks_train_info.mat tracks_test_info.mat query_IDX.mat
       (optional: without info/, tracklets and a query/gallery split are derived from file names)`;

const INFO_FILES = [
  'train_name.txt',
  'test_name.txt',
  'tracks_train_info.mat',
  'tracks_test_info.mat',
  'query_IDX.mat',
];
/** `0001C1T0001F001.jpg`: pid (4 chars, `00-1` = junk), camera, tracklet, frame. */
const MARS_NAME = /^(\d{4}|00-1)C(\d)T(\d{4})F(\d{3,})\.jpg$/;

/**
 * Loads MARS (Zheng et al., ECCV 2016). Reference: `liangzheng06/MARS-evaluation` (`info/`, `utils/info_mars.m`);
 * torchreid `data/datasets/video/mars.py`. Standard statistics: train 625 ids / 8,298 tracklets / 509,914 frames;
 * query 1,980 tracklets; test 12,180 rows of which pid −1 (junk, dropped) 870 and pid 0 (distractors, kept) 3,248.
 * @throws DatasetNotFoundError (missing root, image folders or one of the info files),
 *         DatasetFormatError (malformed list, `.mat` or file name, with file and line/row).
 */
export async function loadMars(options: MarsOptions): Promise<ReidDataset> {
  const { root } = options;
  const protocol = options.protocol ?? 'official';
  if (protocol !== 'official' && protocol !== 'torchreid') {
    throw new InvalidOptionError(
      'mars protocol',
      protocol,
      'Use "official" (gallery includes the queries) or "torchreid" (gallery = test − query).',
    );
  }
  await requirePaths(root, ['bbox_train', 'bbox_test'], MARS_LAYOUT);
  const name = options.name ?? 'mars';
  if (await pathExists(join(root, 'info'))) {
    await requirePaths(
      root,
      INFO_FILES.map((file) => join('info', file)),
      MARS_LAYOUT,
    );
    return finishDataset({ name, root, ...(await readWithInfo(root, protocol)) }, options);
  }
  const train = await readFromFileNames(join(root, 'bbox_train'));
  const test = (await readFromFileNames(join(root, 'bbox_test'))).filter((t) => t.identity !== -1);
  const { query, gallery } = deriveQueryGallery(test, protocol);
  return finishDataset(
    {
      name,
      root,
      protocol: derivedSplitProtocol(
        protocol,
        'no info/: tracklets from file names; query = first tracklet of each identity in each camera, for identities seen by ≥ 2 cameras',
      ),
      train,
      query,
      gallery,
    },
    options,
  );
}

async function readWithInfo(root: string, protocol: MarsProtocol) {
  const info = (file: string) => join(root, 'info', file);
  const trainNames = await readLines(info('train_name.txt'));
  const testNames = await readLines(info('test_name.txt'));
  const trainRows = await readTrackRows(info('tracks_train_info.mat'), 'track_train_info', trainNames.length);
  const testRows = await readTrackRows(info('tracks_test_info.mat'), 'track_test_info', testNames.length);
  const queryFile = info('query_IDX.mat');
  const queryRows = matrixRows(readMatFile(await readFile(queryFile), queryFile), 'query_IDX', queryFile).flat();
  const toTracklet =
    (folder: string, names: NumberedLine[], nameFile: string) =>
    (row: TrackRow): Tracklet => {
      const frames = names.slice(row.start - 1, row.end).map(({ text, line }) => {
        const match = MARS_NAME.exec(text);
        if (!match)
          throw new DatasetFormatError(nameFile, `"${text}" is not a MARS frame name (PPPPCcTttttFfff.jpg)`, { line });
        if (marsPid(match[1]) !== row.pid || Number(match[2]) !== row.camera) {
          throw new DatasetFormatError(
            nameFile,
            `"${text}" belongs to pid ${match[1]} camera ${match[2]} but track row ${row.row} of ${row.file} says pid ${row.pid} camera ${row.camera}`,
            { line },
          );
        }
        return join(root, folder, text.slice(0, 4), text);
      });
      return { frames, identity: row.pid, camera: row.camera - 1, metadata: { trackRow: row.row } };
    };
  const train = trainRows
    .filter((row) => row.pid !== -1)
    .map(toTracklet('bbox_train', trainNames, info('train_name.txt')));
  const testTracklets = testRows.map(toTracklet('bbox_test', testNames, info('test_name.txt')));
  const isQuery = new Uint8Array(testRows.length);
  queryRows.forEach((value, index) => {
    if (!Number.isInteger(value) || value < 1 || value > testRows.length) {
      throw new DatasetFormatError(
        queryFile,
        `query_IDX entry ${index + 1} is ${value}, expected a 1-based row of track_test_info (1..${testRows.length})`,
        { line: index + 1 },
      );
    }
    if (isQuery[value - 1] === 1) {
      throw new DatasetFormatError(
        queryFile,
        `query_IDX entry ${index + 1} repeats row ${value} (listed earlier too): each query is one row of track_test_info`,
        { line: index + 1 },
      );
    }
    isQuery[value - 1] = 1;
  });
  const query = queryRows.map((value) => testTracklets[value - 1] as Tracklet).filter((t) => t.identity !== -1);
  const gallery = testTracklets.filter(
    (t, index) => t.identity !== -1 && (protocol === 'official' || isQuery[index] === 0),
  );
  return { protocol, train, query, gallery };
}

interface TrackRow {
  readonly start: number;
  readonly end: number;
  readonly pid: number;
  readonly camera: number;
  readonly row: number;
  readonly file: string;
}

async function readTrackRows(file: string, variable: string, nameCount: number): Promise<TrackRow[]> {
  const rows = matrixRows(readMatFile(await readFile(file), file), variable, file, 4);
  const parsed = rows.map(([start = 0, end = 0, pid = 0, camera = 0], index) => {
    const line = index + 1;
    if (![start, end, pid, camera].every(Number.isInteger))
      throw new DatasetFormatError(
        file,
        `row ${line} of ${variable} has non-integer values [${[start, end, pid, camera].join(', ')}]`,
        { line },
      );
    if (start < 1 || end < start || end > nameCount) {
      throw new DatasetFormatError(
        file,
        `row ${line} of ${variable}: [start ${start}, end ${end}] is not a 1-based inclusive range within the ${nameCount} names of the matching *_name.txt`,
        { line },
      );
    }
    if (camera < 1 || camera > 9)
      throw new DatasetFormatError(file, `row ${line} of ${variable}: camera ${camera} is outside 1..9`, { line });
    return { start, end, pid, camera, row: line, file };
  });
  // Two tracks sharing frames would put the same frames in two tracklets (MARS's rows tile the name list).
  const ordered = [...parsed].sort((a, b) => a.start - b.start);
  for (let index = 1; index < ordered.length; index++) {
    const [previous, current] = [ordered[index - 1] as TrackRow, ordered[index] as TrackRow];
    if (current.start <= previous.end) {
      throw new DatasetFormatError(
        file,
        `row ${current.row} of ${variable} [${current.start}, ${current.end}] overlaps row ${previous.row} [${previous.start}, ${previous.end}]: each frame belongs to one track`,
        { line: current.row },
      );
    }
  }
  return parsed;
}

/** Builds tracklets from `<split>/<PPPP>/<name>.jpg` names alone, grouped by (pid, camera, tracklet), frames by F number. */
async function readFromFileNames(splitFolder: string): Promise<Tracklet[]> {
  const groups = new Map<
    string,
    { pid: number; camera: number; tracklet: number; frames: { frame: number; path: string }[] }
  >();
  for (const folder of await listFolders(splitFolder)) {
    for (const file of await listImages(join(splitFolder, folder))) {
      const match = MARS_NAME.exec(file);
      const path = join(splitFolder, folder, file);
      if (!match)
        throw new DatasetFormatError(path, 'not a MARS frame name PPPPCcTttttFfff.jpg (e.g. 0001C1T0001F001.jpg)');
      if (match[1] !== folder)
        throw new DatasetFormatError(
          path,
          `identity ${match[1]} is stored in folder ${folder}; MARS keeps each identity in its own folder`,
        );
      const [pid, camera, tracklet, frame] = [marsPid(match[1]), Number(match[2]), Number(match[3]), Number(match[4])];
      if (camera < 1)
        throw new DatasetFormatError(path, 'camera C0: MARS numbers cameras from 1 (C1..C6); rename the file');
      const key = `${pid}/${camera}/${tracklet}`;
      let group = groups.get(key);
      if (!group) {
        group = { pid, camera, tracklet, frames: [] };
        groups.set(key, group);
      }
      group.frames.push({ frame, path });
    }
  }
  return [...groups.values()]
    .sort((a, b) => a.pid - b.pid || a.tracklet - b.tracklet || a.camera - b.camera)
    .map((group) => ({
      frames: group.frames.sort((a, b) => a.frame - b.frame).map((f) => f.path),
      identity: group.pid,
      camera: group.camera - 1,
      metadata: { trackletNumber: group.tracklet },
    }));
}

/** `00-1` is MARS's junk id (−1); other ids are 4 digits. */
function marsPid(text: string | undefined): number {
  return text === '00-1' ? -1 : Number(text);
}
