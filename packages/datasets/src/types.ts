/**
 * One tracklet: frames of one identity seen by one camera (a single image is a 1-frame tracklet).
 * Extra metadata (`trackId`, `videoId`, `frameNumbers`, …) is dataset-specific and optional.
 */
export interface Tracklet {
  /** Absolute paths, in temporal order. */
  readonly frames: readonly string[];
  /** Train: relabelled 0..I-1 (ascending original id). Query/gallery: the original id (0 = distractor). */
  readonly identity: number;
  /** 0-based camera index. */
  readonly camera: number;
  /** The identity as written in the dataset (train tracklets only differ from `identity`). */
  readonly originalIdentity?: number;
  /** Dataset-specific extras (ATRW video/frame ids, VeRi track keys, …). */
  readonly metadata?: Readonly<Record<string, string | number | readonly number[]>>;
}

/** Per-split counts, as printed by {@link formatStatistics}. */
export interface SplitStatistics {
  readonly identities: number;
  readonly tracklets: number;
  readonly frames: number;
  readonly minFrames: number;
  readonly maxFrames: number;
  readonly cameras: number;
}

/** Dataset statistics: one row per split, plus counts of frames skipped by `onBadFrame: 'skip'`. */
export interface DatasetStatistics {
  readonly train: SplitStatistics;
  readonly query: SplitStatistics;
  readonly gallery: SplitStatistics;
  /** Frames dropped because they could not be decoded (only with `onBadFrame: 'skip'`). */
  readonly skippedFrames: number;
  /** Tracklets dropped because every frame was bad (only with `onBadFrame: 'skip'`). */
  readonly skippedTracklets: number;
}

/** A loaded Re-ID dataset: paths and labels only, never pixels. */
export interface ReidDataset {
  readonly name: string;
  readonly root: string;
  readonly train: readonly Tracklet[];
  readonly query: readonly Tracklet[];
  readonly gallery: readonly Tracklet[];
  /** Number of training identities I (train labels are 0..I-1). */
  readonly numTrainIdentities: number;
  /** Number of distinct cameras over all splits (cameras are 0-based). */
  readonly numCameras: number;
  /** How query and gallery were built, e.g. `'official'`, `'torchreid'`, `'filenames (no info/)'`. */
  readonly protocol: string;
  readonly statistics: DatasetStatistics;
  /** Dataset-specific evaluation data (VeRi gt/jk indices, ATRW exclusion); see each loader. */
  readonly evaluation?: DatasetEvaluation;
}

/**
 * Extra evaluation data for protocols that are not "same id, different camera".
 * `junkGallery(q)` feeds `evaluateRanking({ junkGallery })` of `@vkd/metrics`.
 */
export interface DatasetEvaluation {
  /** Extra junk gallery indices for query `queryIndex` (indices into `gallery`). */
  junkGallery(queryIndex: number): readonly number[] | undefined;
  /** Whether same-identity-same-camera gallery items are junk (pass as `excludeSameCamera`). */
  readonly excludeSameCamera: boolean;
  /** Explicit ground-truth gallery indices per query when the dataset provides them (VeRi `gt_index.txt`). */
  readonly goodGallery?: (queryIndex: number) => readonly number[] | undefined;
}

/** What to do with frames that cannot be decoded when `validateFrames` is on. */
export type BadFramePolicy = 'error' | 'skip';

/** Options shared by every loader. */
export interface LoadDatasetOptions {
  /** Dataset root directory. */
  readonly root: string;
  /**
   * Decode every frame with sharp at load time (slow on real datasets). Default false: bad JPEGs are then
   * reported, naming the file, by the image pipeline (`readImage`, `createTrackletLoader`).
   */
  readonly validateFrames?: boolean;
  /** With `validateFrames`: `'error'` (default) throws naming the file; `'skip'` drops it and counts it. */
  readonly onBadFrame?: BadFramePolicy;
  /** Drop tracklets shorter than this (default 0). */
  readonly minFrames?: number;
}

/** A dataset loader: reads a root and returns tracklets. */
export type DatasetLoader<Options extends LoadDatasetOptions = LoadDatasetOptions> = (
  options: Options,
) => Promise<ReidDataset>;
