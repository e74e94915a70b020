import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DatasetFormatError, DatasetNotFoundError, InvalidOptionError, parseStrictJson } from '@vkd/core';
import { finishDataset } from './finish-dataset';
import { listImages, pathExists, readLines, requirePaths } from './dataset-files';
import type { DatasetEvaluation, LoadDatasetOptions, ReidDataset, Tracklet } from './types';

/** ATRW plain-track query sets (`cvwc2019/ATRWEvalScript`). */
export type AtrwProtocol = 'single-camera' | 'cross-camera' | 'all';

/** Options of {@link loadAtrw}. */
export interface AtrwOptions extends LoadDatasetOptions {
  /** Queries: `'single-camera'` (`query: "sing"`, default), `'cross-camera'` (`"multi"`) or `'all'`. Gallery = every test image. */
  readonly protocol?: AtrwProtocol;
  /** Near-duplicate window: same tiger, same video (frame[0], frame[1]), |Δframe| ≤ this (default 3). */
  readonly nearDuplicateFrames?: number;
  /** Path of `gt_test_plain.json` (default: `<root>/annotations/gt_test_plain.json`, else `<root>/gt_test_plain.json`). */
  readonly testAnnotations?: string;
}

/** The files the ATRW loader expects under its root, as shown in error messages and `vkd datasets`. */
export const ATRW_LAYOUT = `<root>/
  atrw_reid_train/train/NNNNNN.jpg        atrw_anno_reid_train/reid_list_train.csv   (no header: entityid,filename)
  atrw_reid_test/test/NNNNNN.jpg          annotations/gt_test_plain.json             (from cvwc2019/ATRWEvalScript)`;

interface PlainEntry {
  readonly imgid: number;
  readonly entityid: number;
  readonly frame: readonly [number, number, number];
  readonly query: 'sing' | 'multi';
}

/**
 * Loads ATRW, Amur Tiger Re-ID in the Wild (Li et al., ACM MM 2020). Reference: `cvwc2019/ATRWEvalScript`
 * (`atrwtool/plain.py`), `WildlifeDatasets/wildlife-datasets` `atrw.py`. Standard statistics: train 107 entities /
 * 1,887 images; test (plain) 75 entities / 1,764 images, 701 single-camera and 1,063 cross-camera queries.
 * Every image is a 1-frame tracklet. Test camera = `frame[1]`; `metadata` holds `imageId`, `video` ("a-b"),
 * `frame` and `queryType`. `evaluation.junkGallery(q)` returns the query's own image and its near-duplicates
 * (same tiger, same video, |Δframe| ≤ 3); `evaluation.excludeSameCamera` is false, as the official script.
 * @throws DatasetNotFoundError (missing folders, csv, annotations or listed images), DatasetFormatError (bad csv line or JSON entry).
 */
export async function loadAtrw(options: AtrwOptions): Promise<ReidDataset> {
  const protocol = options.protocol ?? 'single-camera';
  if (!['single-camera', 'cross-camera', 'all'].includes(protocol))
    throw new InvalidOptionError('atrw protocol', protocol, 'Use "single-camera", "cross-camera" or "all".');
  const window = options.nearDuplicateFrames ?? 3;
  if (!Number.isInteger(window) || window < 0)
    throw new InvalidOptionError('atrw nearDuplicateFrames', window, 'Use an integer ≥ 0.');
  const { root } = options;
  await requirePaths(
    root,
    ['atrw_reid_train/train', 'atrw_anno_reid_train/reid_list_train.csv', 'atrw_reid_test/test'],
    ATRW_LAYOUT,
  );
  const annotations =
    options.testAnnotations ??
    ((await pathExists(join(root, 'annotations', 'gt_test_plain.json')))
      ? join(root, 'annotations', 'gt_test_plain.json')
      : join(root, 'gt_test_plain.json'));
  if (!(await pathExists(annotations))) throw new DatasetNotFoundError(root, [annotations], ATRW_LAYOUT);

  const csv = join(root, 'atrw_anno_reid_train', 'reid_list_train.csv');
  const trainFolder = join(root, 'atrw_reid_train', 'train');
  const trainFiles = new Set(await listImages(trainFolder));
  const train = (await readLines(csv)).map(({ text, line }): Tracklet => {
    const fields = text.split(',').map((field) => field.trim());
    if (fields.length !== 2 || !/^\d+$/.test(fields[0] as string) || !/\.jpe?g$/i.test(fields[1] as string)) {
      throw new DatasetFormatError(csv, `expected "entityid,filename" (no header), found "${text}"`, { line });
    }
    if (!trainFiles.has(fields[1] as string))
      throw new DatasetNotFoundError(root, [join(trainFolder, fields[1] as string)], ATRW_LAYOUT);
    return { frames: [join(trainFolder, fields[1] as string)], identity: Number(fields[0]), camera: 0 };
  });

  const entries = parsePlain(await readFile(annotations, 'utf8'), annotations);
  const testFolder = join(root, 'atrw_reid_test', 'test');
  const testFiles = new Set(await listImages(testFolder));
  const missing = entries.map((entry) => imageName(entry.imgid)).filter((name) => !testFiles.has(name));
  if (missing.length > 0)
    throw new DatasetNotFoundError(
      root,
      missing.slice(0, 10).map((name) => join(testFolder, name)),
      ATRW_LAYOUT,
    );
  const cameras = [...new Set(entries.map((entry) => entry.frame[1]))].sort((a, b) => a - b);
  const gallery = entries.map(
    (entry): Tracklet => ({
      frames: [join(testFolder, imageName(entry.imgid))],
      identity: entry.entityid,
      camera: cameras.indexOf(entry.frame[1]),
      metadata: {
        imageId: entry.imgid,
        video: `${entry.frame[0]}-${entry.frame[1]}`,
        frame: entry.frame[2],
        queryType: entry.query,
      },
    }),
  );
  const queryIndices = entries.flatMap((entry, index) =>
    protocol === 'all' || (protocol === 'single-camera') === (entry.query === 'sing') ? [index] : [],
  );
  const junk = queryIndices.map((galleryIndex) => nearDuplicates(entries, galleryIndex, window));
  const evaluation: DatasetEvaluation = { excludeSameCamera: false, junkGallery: (queryIndex) => junk[queryIndex] };
  return finishDataset(
    {
      name: 'atrw',
      root,
      protocol: `plain ${protocol}`,
      train,
      query: queryIndices.map((index) => gallery[index] as Tracklet),
      gallery,
      evaluation,
    },
    options,
  );
}

function imageName(imgid: number): string {
  return `${String(imgid).padStart(6, '0')}.jpg`;
}

/** Gallery indices excluded for a query: same entity, same (frame[0], frame[1]) video, |Δframe| ≤ window (itself included). */
function nearDuplicates(entries: readonly PlainEntry[], queryIndex: number, window: number): number[] {
  const query = entries[queryIndex] as PlainEntry;
  return entries.flatMap((entry, index) =>
    entry.entityid === query.entityid &&
    entry.frame[0] === query.frame[0] &&
    entry.frame[1] === query.frame[1] &&
    Math.abs(entry.frame[2] - query.frame[2]) <= window
      ? [index]
      : [],
  );
}

function parsePlain(text: string, file: string): PlainEntry[] {
  let data: unknown;
  try {
    data = parseStrictJson(text);
  } catch (error) {
    throw new DatasetFormatError(file, `invalid JSON: ${(error as Error).message}`, { cause: error });
  }
  if (!Array.isArray(data))
    throw new DatasetFormatError(file, 'expected a JSON array of {imgid, entityid, frame: [a, b, f], query}');
  return data.map((entry: unknown, index): PlainEntry => {
    const record = entry as Record<string, unknown>;
    const frame = record?.frame;
    const valid =
      Number.isInteger(record?.imgid) &&
      Number.isInteger(record?.entityid) &&
      Array.isArray(frame) &&
      frame.length === 3 &&
      frame.every(Number.isInteger) &&
      (record.query === 'sing' || record.query === 'multi');
    if (!valid)
      throw new DatasetFormatError(
        file,
        `entry ${index} is not {imgid: int, entityid: int, frame: [int, int, int], query: "sing" | "multi"}: ${JSON.stringify(entry)?.slice(0, 120)}`,
        { line: lineOfEntry(text, index) },
      );
    return record as unknown as PlainEntry;
  });
}

/** 1-based line on which the `index`-th top-level array element starts (for error messages). */
function lineOfEntry(text: string, index: number): number | undefined {
  let depth = 0;
  let count = -1;
  let line = 1;
  let inString = false;
  let expectValue = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i] as string;
    if (char === '\n') line++;
    if (inString) {
      if (char === '\\') i++;
      else if (char === '"') inString = false;
      continue;
    }
    if (depth === 1 && expectValue && !/\s/.test(char)) {
      expectValue = false;
      if (++count === index) return line;
    }
    if (char === '"') inString = true;
    else if (char === '{' || char === '[') {
      depth++;
      if (depth === 1) expectValue = true;
    } else if (char === '}' || char === ']') depth--;
    else if (char === ',' && depth === 1) expectValue = true;
  }
  return undefined;
}
