import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DatasetFormatError, InvalidOptionError } from '@vkd/core';
import { finishDataset } from './finish-dataset';
import { IMAGE_EXTENSION, pathExists, readLines, requirePaths, type NumberedLine } from './dataset-files';
import type { DatasetEvaluation, LoadDatasetOptions, ReidDataset, Tracklet } from './types';

/** Options of {@link loadVeri776}. */
export interface Veri776Options extends LoadDatasetOptions {
  /**
   * `'track'` (default, I2V/V2V): gallery = the tracks of `test_track.txt`; each query image carries
   * `metadata.galleryTrack`, the first gallery track of the same (vehicle, camera) (VKD's V2V query).
   * `'image'` (I2I): gallery = every `name_test.txt` image, in file order, so `gt_index.txt`/`jk_index.txt`
   * (when present) apply and are exposed through `evaluation`.
   */
  readonly view?: 'track' | 'image';
  /**
   * How a `test_track.txt` line is split (`'track'` view). `'vkd'` (default): the authors' rule
   * (`data/veri/data_manager.py` `_process_gallery`): the line, newline removed, split on single spaces; the first
   * token is the track key (vehicle and camera are read from it) and the last token is dropped too (their trailing
   * space's empty token); when that last token is a real image name it is dropped as they drop it, and the track
   * records it in `metadata.droppedLastImage`. `'names'`: every whitespace-separated token that is an image name of
   * `name_test.txt` (a leading key token is skipped), robust to a missing trailing space.
   */
  readonly trackTokens?: 'vkd' | 'names';
}

/** The files the VeRi-776 loader expects under its root, as shown in error messages and `vkd datasets`. */
export const VERI_776_LAYOUT = `<root>/
  image_train/ image_query/ image_test/       <vid4>_c<cam3>_<frame8>_<n>.jpg
  name_train.txt name_query.txt name_test.txt test_track.txt
  (optional) gt_index.txt jk_index.txt camera_ID.txt`;

const VERI_NAME = /^(\d+)_c(\d+)_/;

interface VeriImage {
  readonly name: string;
  readonly vehicle: number;
  readonly camera: number;
  readonly line: number;
}

function parseNames(lines: readonly NumberedLine[], file: string): VeriImage[] {
  return lines.map(({ text, line }) => {
    const match = VERI_NAME.exec(text);
    if (!match || !IMAGE_EXTENSION.test(text))
      throw new DatasetFormatError(file, `"${text}" is not a VeRi image name <vehicle>_c<camera>_<frame>_<n>.jpg`, {
        line,
      });
    const camera = Number(match[2]);
    if (camera < 1) throw new DatasetFormatError(file, `camera c${match[2]} must be ≥ 1`, { line });
    return { name: text, vehicle: Number(match[1]), camera: camera - 1, line };
  });
}

/**
 * Loads VeRi-776 (Liu et al., ICME 2016 / ECCV 2016). Reference: dataset `ReadMe.txt`; `JDAI-CV/VeRidataset`
 * `baseline_evaluation_FACT_776.m`; `aimagelab/VKD data/veri/data_manager.py`. Standard statistics: images 37,778
 * train (576 vehicles) / 1,678 query / 11,579 test (200 vehicles); 20 cameras.
 * Train tracklets = all images of one vehicle in one camera (names sorted). Query = single images.
 * @throws DatasetNotFoundError, DatasetFormatError (file and line).
 */
export async function loadVeri776(options: Veri776Options): Promise<ReidDataset> {
  const view = options.view ?? 'track';
  const trackTokens = options.trackTokens ?? 'vkd';
  if (trackTokens !== 'vkd' && trackTokens !== 'names')
    throw new InvalidOptionError('veri-776 trackTokens', trackTokens, 'Use "vkd" (the authors\' rule) or "names".');
  if (view !== 'track' && view !== 'image')
    throw new InvalidOptionError('veri-776 view', view, 'Use "track" (I2V/V2V) or "image" (I2I).');
  const { root } = options;
  await requirePaths(
    root,
    [
      'image_train',
      'image_query',
      'image_test',
      'name_train.txt',
      'name_query.txt',
      'name_test.txt',
      ...(view === 'track' ? ['test_track.txt'] : []),
    ],
    VERI_776_LAYOUT,
  );
  const file = (name: string) => join(root, name);
  const trainImages = parseNames(await readLines(file('name_train.txt')), file('name_train.txt'));
  const queryImages = parseNames(await readLines(file('name_query.txt')), file('name_query.txt'));
  const testImages = parseNames(await readLines(file('name_test.txt')), file('name_test.txt'));
  if (await pathExists(file('camera_ID.txt')))
    await checkCameras(file('camera_ID.txt'), [...trainImages, ...queryImages, ...testImages]);

  const groups = new Map<string, VeriImage[]>();
  for (const image of [...trainImages].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const key = `${image.vehicle}/${image.camera}`;
    groups.set(key, [...(groups.get(key) ?? []), image]);
  }
  const train: Tracklet[] = [...groups.values()].map((images) => ({
    frames: images.map((image) => join(root, 'image_train', image.name)),
    identity: (images[0] as VeriImage).vehicle,
    camera: (images[0] as VeriImage).camera,
  }));
  const gallery =
    view === 'track'
      ? await readTracks(file('test_track.txt'), root, testImages, trackTokens)
      : testImages.map((image) => single(root, 'image_test', image));
  const firstTrack = new Map<string, number>();
  gallery.forEach((track, index) => {
    const key = `${track.identity}/${track.camera}`;
    if (!firstTrack.has(key)) firstTrack.set(key, index);
  });
  const query = queryImages.map((image) => {
    const tracklet = single(root, 'image_query', image);
    return view === 'track'
      ? {
          ...tracklet,
          metadata: { ...tracklet.metadata, galleryTrack: firstTrack.get(`${image.vehicle}/${image.camera}`) ?? -1 },
        }
      : tracklet;
  });
  const evaluation =
    view === 'image' ? await readIndexEvaluation(root, queryImages.length, testImages.length) : undefined;
  return finishDataset(
    {
      name: 'veri-776',
      root,
      protocol: view === 'track' ? 'track (I2V/V2V)' : 'image (I2I)',
      train,
      query,
      gallery,
      ...(evaluation ? { evaluation } : {}),
    },
    options,
  );
}

function single(root: string, folder: string, image: VeriImage): Tracklet {
  return {
    frames: [join(root, folder, image.name)],
    identity: image.vehicle,
    camera: image.camera,
    metadata: { listLine: image.line },
  };
}

async function checkCameras(file: string, images: readonly VeriImage[]): Promise<void> {
  const listed = new Set<number>();
  for (const { text, line } of await readLines(file)) {
    for (const token of text.split(/\s+/)) {
      const match = /^c?(\d+)$/.exec(token);
      if (!match) throw new DatasetFormatError(file, `"${token}" is not a camera id like c001`, { line });
      listed.add(Number(match[1]) - 1);
    }
  }
  const unknown = images.find((image) => !listed.has(image.camera));
  if (unknown)
    throw new DatasetFormatError(
      file,
      `camera c${String(unknown.camera + 1).padStart(3, '0')} of ${unknown.name} is not listed`,
    );
}

/**
 * `test_track.txt`: one track per line, space-separated, robust to a trailing space or none. The first token is
 * either a track key (`<vid>_c<cam>…`, VKD drops it) or already an image name of `name_test.txt`.
 */
async function readTracks(
  file: string,
  root: string,
  testImages: readonly VeriImage[],
  rule: 'vkd' | 'names',
): Promise<Tracklet[]> {
  const testNames = new Set(testImages.map((image) => image.name));
  const lines = rule === 'vkd' ? await readRawLines(file) : await readLines(file);
  return lines.map(({ text, line }) => {
    let names: string[];
    let dropped: string | undefined;
    if (rule === 'vkd') {
      const tokens = text.split(' ');
      names = tokens.slice(1, tokens.length - 1);
      const last = tokens[tokens.length - 1] as string;
      if (tokens.length > 1 && testNames.has(last)) dropped = last;
      const key = VERI_NAME.exec(`${tokens[0] as string}_`);
      if (!key)
        throw new DatasetFormatError(
          file,
          `the first token "${tokens[0]}" is not a track key <vehicle>_c<camera>… (the authors' rule reads vehicle and camera from it); load with trackTokens: 'names' for lines that start with an image name`,
          { line },
        );
      if (names.some((name) => name.length === 0))
        throw new DatasetFormatError(
          file,
          "has two consecutive spaces; the authors' rule splits on single spaces and would read an empty image name",
          { line },
        );
      if (names.length === 0)
        throw new DatasetFormatError(
          file,
          `track line has no image once the authors' rule drops its first and last token${dropped ? ` (it dropped ${dropped}: no trailing space?)` : ''}; load with trackTokens: 'names'`,
          { line },
        );
    } else {
      const tokens = text.split(/\s+/).filter((token) => token.length > 0);
      names = testNames.has(tokens[0] as string) ? tokens : tokens.slice(1);
    }
    if (names.length === 0) throw new DatasetFormatError(file, 'track line has no image names', { line });
    const images = names.map((name) => {
      if (!testNames.has(name))
        throw new DatasetFormatError(file, `"${name}" is not listed in name_test.txt`, { line });
      return parseNames([{ text: name, line }], file)[0] as VeriImage;
    });
    const first = images[0] as VeriImage;
    const odd = images.find((image) => image.vehicle !== first.vehicle || image.camera !== first.camera);
    if (odd)
      throw new DatasetFormatError(file, `track mixes ${first.name} and ${odd.name} (different vehicle or camera)`, {
        line,
      });
    return {
      frames: images.map((image) => join(root, 'image_test', image.name)),
      identity: first.vehicle,
      camera: first.camera,
      metadata: { trackLine: line, ...(dropped ? { droppedLastImage: dropped } : {}) },
    };
  });
}

/** Non-empty lines with only the line ending removed (`\n`, `\r\n`): the authors' rule depends on trailing spaces. */
async function readRawLines(file: string): Promise<NumberedLine[]> {
  const text = (await readFile(file, 'utf8')).replace(/^\uFEFF/, '');
  return text.split('\n').flatMap((raw, index) => {
    const line = raw.replace(/\r$/, '');
    return line.trim().length > 0 ? [{ text: line, line: index + 1 }] : [];
  });
}

/** `gt_index.txt` / `jk_index.txt`: line k = query k; space-separated 1-based indices into name_test.txt; zeros ignored. */
async function readIndexLists(file: string, queries: number, gallerySize: number): Promise<number[][]> {
  const rawLines = (await readFile(file, 'utf8')).replace(/\r/g, '').split('\n');
  while (rawLines.length > 0 && rawLines[rawLines.length - 1]?.trim() === '') rawLines.pop();
  if (rawLines.length !== queries)
    throw new DatasetFormatError(
      file,
      `has ${rawLines.length} lines but name_query.txt lists ${queries} queries (one line per query expected)`,
    );
  return rawLines.map((raw, index) =>
    raw
      .trim()
      .split(/\s+/)
      .filter((token) => token.length > 0)
      .flatMap((token) => {
        const value = Number(token);
        if (!Number.isInteger(value) || value < 0 || value > gallerySize)
          throw new DatasetFormatError(
            file,
            `"${token}" is not a 1-based index into the ${gallerySize} names of name_test.txt`,
            { line: index + 1 },
          );
        return value === 0 ? [] : [value - 1];
      }),
  );
}

async function readIndexEvaluation(
  root: string,
  queries: number,
  gallerySize: number,
): Promise<DatasetEvaluation | undefined> {
  const gtFile = join(root, 'gt_index.txt');
  const jkFile = join(root, 'jk_index.txt');
  const hasGt = await pathExists(gtFile);
  const hasJk = await pathExists(jkFile);
  if (!hasGt && !hasJk) return undefined;
  const good = hasGt ? await readIndexLists(gtFile, queries, gallerySize) : undefined;
  const junk = hasJk ? await readIndexLists(jkFile, queries, gallerySize) : undefined;
  return {
    excludeSameCamera: true,
    junkGallery: (queryIndex) => junk?.[queryIndex],
    ...(good ? { goodGallery: (queryIndex: number) => good[queryIndex] } : {}),
  };
}
