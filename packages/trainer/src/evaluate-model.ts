import { InvalidOptionError } from '@vkd/core';
import {
  EVALUATION_PROTOCOLS,
  findDatasetEntry,
  type EvaluationProtocol,
  type ReidDataset,
  type Tracklet,
} from '@vkd/datasets';
import { evaluateFeatures, type RankingResult } from '@vkd/metrics';
import type { ReidModel } from '@vkd/models';
import type { BatchArrays } from './batch';
import { extractFeatures, type ExtractedFeatures } from './extract-features';
import { createFeatureCache } from './feature-cache';
import { summarizeRanking, type RankingSummary } from './ranking-summary';

export type { EvaluationProtocol };

/** MARS gallery composition: `'official'` = query ∪ gallery (VKD, MATLAB script), `'torchreid'` = gallery only. */
export type GalleryMode = 'official' | 'torchreid';

/**
 * Produces inference batches for a list of tracklets: chunk-first frames, no augmentation, in the order given. In
 * Node: `createEvaluationLoader` of `@vkd/datasets/node` (sharp); the trainer itself decodes nothing.
 */
export type BatchSource = (
  tracklets: readonly Tracklet[],
  options: { framesPerTracklet: number; trackletsPerBatch: number; imageSize: readonly [number, number] },
) => AsyncIterable<BatchArrays> | Iterable<BatchArrays>;

/** Options of {@link evaluateModel}. */
export interface EvaluateModelOptions {
  /** `[H, W]` input size (MARS/Duke 256×128, VeRi 224×224). */
  imageSize: readonly [number, number];
  /** Frames per gallery / video-query tracklet, chunk-first rule (default 8). */
  framesPerTracklet?: number;
  /** Frames per inference batch (default 256 = the authors' 32 tracklets × 8). */
  framesPerBatch?: number;
  /**
   * Default: the dataset table's `protocols` (`@vkd/datasets`: `['i2v', 'v2v']` for video sets, all four for
   * `veri-776`, `['i2i']` for `atrw`); `['i2v', 'v2v']` for a dataset that is not registered.
   */
  protocols?: readonly EvaluationProtocol[];
  /**
   * For MARS-like sets: gallery modes to report. The dataset's own gallery is used as loaded; the other mode is
   * derived by adding the query tracklets (`official`) or removing them (`torchreid`). Default: the dataset's own.
   */
  galleryModes?: readonly GalleryMode[];
  /** Gallery frame counts for the paper's Fig. 3 sweep, e.g. `[1, 2, 4, 8]` (I2V and V2V at each count). */
  galleryFramesSweep?: readonly number[];
  /** CMC length (default 50). */
  maxRank?: number;
  /** Batch source, e.g. `createEvaluationLoader` of `@vkd/datasets/node`. */
  batches: BatchSource;
  /**
   * Progress of feature extraction, after every batch: `phase` names the set being extracted (e.g. `gallery ×8`),
   * `done`/`total` count its frames. Extraction dominates evaluation time.
   */
  onProgress?: (progress: EvaluationProgress) => void;
  /**
   * Keep the extracted features of the dataset's own query and gallery in the report (`features`), for exporting
   * them, re-ranking or drawing ranked results. Default false.
   */
  keepFeatures?: boolean;
}

/** See {@link EvaluateModelOptions.onProgress}. */
export interface EvaluationProgress {
  phase: string;
  /** Frames extracted so far in this phase. */
  done: number;
  /** Frames of this phase. */
  total: number;
}

/** Everything {@link evaluateModel} measured. */
export interface EvaluationReport {
  dataset: string;
  /** Metrics in the dataset's own gallery mode, by protocol. */
  protocols: Partial<Record<EvaluationProtocol, RankingSummary>>;
  /** Metrics per gallery mode (only with `galleryModes`). */
  galleryModes?: Partial<Record<GalleryMode, Partial<Record<'i2v' | 'v2v', RankingSummary>>>>;
  /**
   * With `keepFeatures`: the features behind `protocols` — image queries (first frame; I2V, I2I), video queries
   * (V2V, V2I), the gallery tracklets (I2V, V2V) and gallery frames as images (I2I, V2I).
   */
  features?: {
    queryImages?: ExtractedFeatures;
    queryVideos?: ExtractedFeatures;
    gallery?: ExtractedFeatures;
    galleryImages?: ExtractedFeatures;
  };
  /** Fig. 3: I2V and V2V with n gallery frames. */
  galleryFramesSweep?: Array<{ frames: number; i2v: RankingSummary; v2v: RankingSummary }>;
  settings: {
    framesPerTracklet: number;
    metric: 'cosine';
    embedding: 'pre-bnneck';
    galleryMode: string;
    queries: number;
    gallery: number;
  };
}

/**
 * Evaluates a model on a dataset's query/gallery with the VKD protocols: cosine distance between pre-BNNeck set
 * embeddings (mean of frame features), same-identity-same-camera gallery items junked, trapezoid and
 * non-interpolated mAP, CMC, mINP (`@vkd/metrics`).
 * - I2V: the first frame of each query tracklet against gallery tracklets (N chunk-first frames).
 * - V2V: query tracklets (N frames) against the same gallery. On `veri-776` a query image's "video" is the first
 *   gallery track of the same vehicle and camera (`vkd-method.md` §5.4).
 * - I2I / V2I: image or video queries against every gallery frame as a single image (VeRi).
 * - ATRW: image queries against the gallery with the dataset's near-duplicate junk (`dataset.evaluation`).
 * @throws InvalidOptionError for bad options (e.g. an empty query set), errors of the loader and of `@vkd/metrics`.
 */
export async function evaluateModel(
  model: Pick<ReidModel, 'forward'>,
  dataset: ReidDataset,
  options: EvaluateModelOptions,
): Promise<EvaluationReport> {
  const framesPerTracklet = options.framesPerTracklet ?? 8;
  const framesPerBatch = options.framesPerBatch ?? 256;
  checkPositiveInteger('evaluateModel.framesPerTracklet', framesPerTracklet);
  checkPositiveInteger('evaluateModel.framesPerBatch', framesPerBatch);
  if (dataset.query.length === 0)
    throw new InvalidOptionError('evaluateModel.dataset.query', 0, `Dataset '${dataset.name}' has no query tracklets.`);
  if (dataset.gallery.length === 0)
    throw new InvalidOptionError(
      'evaluateModel.dataset.gallery',
      0,
      `Dataset '${dataset.name}' has no gallery tracklets.`,
    );
  const protocols = options.protocols ?? defaultProtocols(dataset.name);
  const unknownProtocol = protocols.find((protocol) => !EVALUATION_PROTOCOLS.includes(protocol));
  if (protocols.length === 0 || unknownProtocol !== undefined) {
    throw new InvalidOptionError(
      'evaluateModel.protocols',
      unknownProtocol ?? protocols,
      `Use a non-empty list of ${EVALUATION_PROTOCOLS.join(', ')}.`,
    );
  }
  const unknownMode = options.galleryModes?.find((mode) => mode !== 'official' && mode !== 'torchreid');
  if (unknownMode !== undefined)
    throw new InvalidOptionError('evaluateModel.galleryModes', unknownMode, "Use 'official' and/or 'torchreid'.");
  options.galleryFramesSweep?.forEach((frames) => checkPositiveInteger('evaluateModel.galleryFramesSweep[]', frames));
  const source = options.batches;
  if (typeof source !== 'function') {
    throw new InvalidOptionError(
      'evaluateModel.batches',
      source,
      'Pass a batch source, e.g. createEvaluationLoader of @vkd/datasets/node.',
    );
  }
  let phase = '';
  const extract = createFeatureCache((tracklets, frames) => {
    const total = tracklets.length * frames;
    let done = 0;
    return extractFeatures(
      model,
      source(tracklets, {
        framesPerTracklet: frames,
        trackletsPerBatch: Math.max(1, Math.floor(framesPerBatch / frames)),
        imageSize: options.imageSize,
      }),
      {
        onBatch: (progress) => {
          done += progress.frames;
          options.onProgress?.({ phase: `${phase} ×${frames}`, done, total });
        },
      },
    );
  });
  const extractPhase = (name: string, tracklets: readonly Tracklet[], frames: number) => {
    phase = name;
    return extract(tracklets, frames);
  };
  const rankingOptions = {
    maxRank: options.maxRank ?? 50,
    ...(dataset.evaluation ? { excludeSameCamera: dataset.evaluation.excludeSameCamera } : {}),
  };
  const rank = (query: ExtractedFeatures, gallery: ExtractedFeatures, alignedWithDataset: boolean): RankingResult =>
    evaluateFeatures({
      queryFeatures: query.features,
      galleryFeatures: gallery.features,
      dim: query.dim,
      queryIdentities: query.identities,
      queryCameras: query.cameras,
      galleryIdentities: gallery.identities,
      galleryCameras: gallery.cameras,
      metric: 'cosine',
      ...rankingOptions,
      ...(alignedWithDataset && dataset.evaluation
        ? { junkGallery: (index: number) => dataset.evaluation?.junkGallery(index) }
        : {}),
    });

  const needs = new Set(protocols);
  const queryTypes = dataset.query.map((tracklet) => {
    const type = tracklet.metadata?.['queryType'];
    return typeof type === 'string' ? type : undefined;
  });
  const imageQuery =
    needs.has('i2v') || needs.has('i2i') ? await extractPhase('query images', dataset.query, 1) : undefined;
  const videoQueryTracklets = videoQueries(dataset);
  const videoQuery =
    needs.has('v2v') || needs.has('v2i')
      ? await extractPhase('query videos', videoQueryTracklets, framesPerTracklet)
      : undefined;
  const galleryVideo =
    needs.has('i2v') || needs.has('v2v')
      ? await extractPhase('gallery', dataset.gallery, framesPerTracklet)
      : undefined;
  const galleryImageTracklets = splitIntoImages(dataset.gallery);
  const galleryImages =
    needs.has('i2i') || needs.has('v2i') ? await extractPhase('gallery images', galleryImageTracklets, 1) : undefined;
  const imagesAligned = galleryImageTracklets.length === dataset.gallery.length;

  const report: EvaluationReport = {
    dataset: dataset.name,
    protocols: {},
    settings: {
      framesPerTracklet,
      metric: 'cosine',
      embedding: 'pre-bnneck',
      galleryMode: dataset.protocol,
      queries: dataset.query.length,
      gallery: dataset.gallery.length,
    },
  };
  if (options.keepFeatures) {
    report.features = {
      ...(imageQuery ? { queryImages: imageQuery } : {}),
      ...(videoQuery ? { queryVideos: videoQuery } : {}),
      ...(galleryVideo ? { gallery: galleryVideo } : {}),
      ...(galleryImages ? { galleryImages } : {}),
    };
  }
  if (imageQuery && galleryVideo && needs.has('i2v'))
    report.protocols.i2v = summarizeRanking(rank(imageQuery, galleryVideo, true), imageQuery.cameras, queryTypes);
  if (videoQuery && galleryVideo && needs.has('v2v'))
    report.protocols.v2v = summarizeRanking(rank(videoQuery, galleryVideo, true), videoQuery.cameras, queryTypes);
  if (imageQuery && galleryImages && needs.has('i2i')) {
    report.protocols.i2i = summarizeRanking(
      rank(imageQuery, galleryImages, imagesAligned),
      imageQuery.cameras,
      queryTypes,
    );
  }
  if (videoQuery && galleryImages && needs.has('v2i')) {
    report.protocols.v2i = summarizeRanking(
      rank(videoQuery, galleryImages, imagesAligned),
      videoQuery.cameras,
      queryTypes,
    );
  }

  if (options.galleryModes && options.galleryModes.length > 0) {
    report.galleryModes = {};
    for (const mode of options.galleryModes) {
      const tracklets = galleryForMode(dataset, mode);
      const gallery = await extractPhase(`${mode} gallery`, tracklets, framesPerTracklet);
      const native = tracklets === dataset.gallery;
      const query = imageQuery ?? (await extractPhase('query images', dataset.query, 1));
      const videos = videoQuery ?? (await extractPhase('query videos', videoQueryTracklets, framesPerTracklet));
      report.galleryModes[mode] = {
        i2v: summarizeRanking(rank(query, gallery, native), query.cameras),
        v2v: summarizeRanking(rank(videos, gallery, native), videos.cameras),
      };
    }
  }

  if (options.galleryFramesSweep && options.galleryFramesSweep.length > 0) {
    const query = imageQuery ?? (await extractPhase('query images', dataset.query, 1));
    const videos = videoQuery ?? (await extractPhase('query videos', videoQueryTracklets, framesPerTracklet));
    report.galleryFramesSweep = [];
    for (const frames of options.galleryFramesSweep) {
      const gallery = await extractPhase('gallery sweep', dataset.gallery, frames);
      report.galleryFramesSweep.push({
        frames,
        i2v: summarizeRanking(rank(query, gallery, true), query.cameras),
        v2v: summarizeRanking(rank(videos, gallery, true), videos.cameras),
      });
    }
  }
  return report;
}

/** Protocols reported by default for a dataset: its table entry's (`@vkd/datasets`), else I2V and V2V. */
export function defaultProtocols(datasetName: string): EvaluationProtocol[] {
  return [...(findDatasetEntry(datasetName)?.protocols ?? ['i2v', 'v2v'])];
}

/** Every frame of every tracklet as a 1-frame tracklet with the same identity and camera (I2I / V2I gallery). */
function splitIntoImages(tracklets: readonly Tracklet[]): Tracklet[] {
  return tracklets.flatMap((tracklet) => tracklet.frames.map((frame) => ({ ...tracklet, frames: [frame] })));
}

/**
 * V2V / V2I queries. A query tracklet that names a gallery track in `metadata.galleryTrack` (VeRi query images) is
 * replaced by that track, as the authors do (a copy of the first gallery track of the same vehicle and camera, which
 * the same-camera junk rule then removes from its own ranking). Without that metadata, on a dataset whose table
 * entry sets `videoQueriesFromGallery` (`veri-776`) the track is looked up by (identity, camera). Other queries are
 * used as they are.
 */
function videoQueries(dataset: ReidDataset): readonly Tracklet[] {
  const firstTrack = new Map<string, Tracklet>();
  if (findDatasetEntry(dataset.name)?.videoQueriesFromGallery === true) {
    for (const tracklet of dataset.gallery) {
      const key = `${tracklet.identity}/${tracklet.camera}`;
      if (!firstTrack.has(key)) firstTrack.set(key, tracklet);
    }
  }
  return dataset.query.map((query) => {
    const named = query.metadata?.['galleryTrack'];
    if (typeof named === 'number' && named >= 0 && named < dataset.gallery.length)
      return dataset.gallery[named] as Tracklet;
    return firstTrack.get(`${query.identity}/${query.camera}`) ?? query;
  });
}

function trackletKey(tracklet: Tracklet): string {
  return `${tracklet.identity}/${tracklet.camera}/${tracklet.frames.join('|')}`;
}

/** The gallery of a MARS-style protocol, derived from the dataset's own split. */
function galleryForMode(dataset: ReidDataset, mode: GalleryMode): readonly Tracklet[] {
  const galleryKeys = new Set(dataset.gallery.map(trackletKey));
  const queriesInGallery = dataset.query.filter((query) => galleryKeys.has(trackletKey(query)));
  const isOfficial = queriesInGallery.length === dataset.query.length;
  if (mode === 'official') {
    return isOfficial
      ? dataset.gallery
      : [...dataset.gallery, ...dataset.query.filter((query) => !galleryKeys.has(trackletKey(query)))];
  }
  if (queriesInGallery.length === 0) return dataset.gallery;
  const queryKeys = new Set(dataset.query.map(trackletKey));
  return dataset.gallery.filter((tracklet) => !queryKeys.has(trackletKey(tracklet)));
}

function checkPositiveInteger(option: string, value: number): void {
  if (!(Number.isInteger(value) && value >= 1)) throw new InvalidOptionError(option, value, 'Use an integer >= 1.');
}
