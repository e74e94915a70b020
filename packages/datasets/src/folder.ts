import { join } from 'node:path';
import { DatasetFormatError, InvalidOptionError } from '@vkd/core';
import { finishDataset } from './finish-dataset';
import { compareNames, isDirectory, listFolders, listImages, requirePaths } from './dataset-files';
import { deriveQueryGallery, derivedSplitProtocol } from './query-gallery';
import type { LoadDatasetOptions, ReidDataset, Tracklet } from './types';

/** Options of {@link loadFolder}. */
export interface FolderOptions extends LoadDatasetOptions {
  /**
   * What the second folder level is: `'camera'` (default; all images of an identity in one camera folder form one
   * tracklet) or `'tracklet'` (one tracklet per folder; the camera is read from file names with `cameraPattern`).
   */
  readonly secondLevel?: 'camera' | 'tracklet';
  /** With `secondLevel: 'tracklet'`: the first capture group is the camera (default `/c(\d+)/i`). */
  readonly cameraPattern?: RegExp;
  /** Without `train/ query/ gallery/` sub-folders: share of identities (in sorted order) used for training (default 0.5). */
  readonly trainFraction?: number;
  /** Gallery composition for a derived split (default `'official'`: queries stay in the gallery). */
  readonly protocol?: 'official' | 'torchreid';
}

/** The files the folder loader expects under its root, as shown in error messages and `vkd datasets`. */
export const FOLDER_LAYOUT = `<root>/<identity>/<camera or tracklet>/*.jpg
  or <root>/{train,query,gallery}/<identity>/<camera or tracklet>/*.jpg`;

interface RawTracklet {
  readonly identityName: string;
  readonly secondName: string;
  readonly frames: string[];
  readonly cameraKey: string;
}

/**
 * Loads a user's own data laid out as `root/<identity>/<camera or tracklet>/*.jpg`. With `train/`, `query/` and
 * `gallery/` sub-folders the splits are used as given; otherwise the first `trainFraction` of identities (sorted,
 * numeric-aware) are for training and the rest are split into query/gallery by `deriveQueryGallery`.
 * Identities: numeric folder names are used as numbers; otherwise the 1-based rank of the name (0 stays free for
 * distractors). Cameras: 0-based rank of the camera key among all keys. Frames sorted by name (numeric-aware).
 * @throws DatasetNotFoundError, DatasetFormatError (image outside the two-level layout, no camera in a file name).
 */
export async function loadFolder(options: FolderOptions): Promise<ReidDataset> {
  const { root } = options;
  const secondLevel = options.secondLevel ?? 'camera';
  if (secondLevel !== 'camera' && secondLevel !== 'tracklet')
    throw new InvalidOptionError('folder secondLevel', secondLevel, 'Use "camera" or "tracklet".');
  const trainFraction = options.trainFraction ?? 0.5;
  if (!(trainFraction > 0 && trainFraction < 1))
    throw new InvalidOptionError('folder trainFraction', trainFraction, 'Use a number strictly between 0 and 1.');
  const protocol = options.protocol ?? 'official';
  await requirePaths(root, [], FOLDER_LAYOUT);
  const pattern = options.cameraPattern ?? /c(\d+)/i;
  const splitFolders = await Promise.all(['train', 'query', 'gallery'].map((split) => isDirectory(join(root, split))));
  const hasSplits = splitFolders.every(Boolean);
  if (!hasSplits && splitFolders.some(Boolean)) {
    const present = ['train', 'query', 'gallery'].filter((_, index) => splitFolders[index]);
    const absent = ['train', 'query', 'gallery'].filter((_, index) => !splitFolders[index]);
    throw new DatasetFormatError(
      root,
      `has ${present.map((name) => `${name}/`).join(' and ')} but no ${absent.map((name) => `${name}/`).join(' or ')}: give all three splits, or none (identity folders only). ${FOLDER_LAYOUT}`,
    );
  }
  const read = (folder: string) => readTree(folder, secondLevel, pattern);
  const splits = hasSplits
    ? {
        train: await read(join(root, 'train')),
        query: await read(join(root, 'query')),
        gallery: await read(join(root, 'gallery')),
      }
    : undefined;
  const all = splits ? [...splits.train, ...splits.query, ...splits.gallery] : await read(root);
  const identityNames = [...new Set(all.map((t) => t.identityName))].sort(compareNames);
  const numeric = identityNames.every((name) => /^\d+$/.test(name));
  if (numeric) {
    const byNumber = new Map<number, string>();
    for (const name of identityNames) {
      const earlier = byNumber.get(Number(name));
      if (earlier !== undefined)
        throw new DatasetFormatError(
          join(root, name),
          `identity folders "${earlier}" and "${name}" both mean identity ${Number(name)}; rename one of them`,
        );
      byNumber.set(Number(name), name);
    }
  }
  const identityOf = (name: string) => (numeric ? Number(name) : identityNames.indexOf(name) + 1);
  const cameraKeys = [...new Set(all.map((t) => t.cameraKey))].sort(compareNames);
  const toTracklet = (raw: RawTracklet): Tracklet => ({
    frames: raw.frames,
    identity: identityOf(raw.identityName),
    camera: cameraKeys.indexOf(raw.cameraKey),
    metadata: { folder: raw.secondName },
  });
  if (splits) {
    return finishDataset(
      {
        name: 'folder',
        root,
        protocol: 'given splits',
        train: splits.train.map(toTracklet),
        query: splits.query.map(toTracklet),
        gallery: splits.gallery.map(toTracklet),
      },
      options,
    );
  }
  const trainCount = Math.min(identityNames.length - 1, Math.max(1, Math.round(identityNames.length * trainFraction)));
  const trainNames = new Set(identityNames.slice(0, trainCount));
  const tracklets = all.map(toTracklet);
  const { query, gallery } = deriveQueryGallery(
    tracklets.filter((_, index) => !trainNames.has((all[index] as RawTracklet).identityName)),
    protocol,
  );
  return finishDataset(
    {
      name: 'folder',
      root,
      protocol: derivedSplitProtocol(
        protocol,
        `first ${trainCount} identities train; query = first tracklet of each test identity in each camera`,
      ),
      train: tracklets.filter((_, index) => trainNames.has((all[index] as RawTracklet).identityName)),
      query,
      gallery,
    },
    options,
  );
}

async function readTree(folder: string, secondLevel: 'camera' | 'tracklet', pattern: RegExp): Promise<RawTracklet[]> {
  const tracklets: RawTracklet[] = [];
  for (const identityName of await listFolders(folder)) {
    const stray = await listImages(join(folder, identityName));
    if (stray.length > 0)
      throw new DatasetFormatError(
        join(folder, identityName, stray[0] as string),
        `images must sit one level deeper: ${FOLDER_LAYOUT}`,
      );
    for (const secondName of await listFolders(join(folder, identityName))) {
      const directory = join(folder, identityName, secondName);
      const names = await listImages(directory);
      if (names.length === 0) continue;
      let cameraKey = secondName;
      if (secondLevel === 'tracklet') {
        const keys = new Set(
          names.map((name) => {
            const match = pattern.exec(name);
            if (!match?.[1])
              throw new DatasetFormatError(
                join(directory, name),
                `no camera found with pattern ${pattern}; pass cameraPattern or use secondLevel: "camera"`,
              );
            return match[1];
          }),
        );
        if (keys.size > 1)
          throw new DatasetFormatError(directory, `tracklet folder mixes cameras ${[...keys].join(', ')}`);
        cameraKey = [...keys][0] as string;
      }
      tracklets.push({ identityName, secondName, frames: names.map((name) => join(directory, name)), cameraKey });
    }
  }
  return tracklets;
}
