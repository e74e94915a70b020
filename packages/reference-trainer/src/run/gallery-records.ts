import { relative } from 'node:path';
import type { ReidDataset, Tracklet } from '@vkd/datasets';
import type { TrackletRecord } from '@vkd/gallery';

/** Which tracklets of a dataset `vkd index` puts into a gallery. */
export const GALLERY_SPLITS = ['gallery', 'query', 'test', 'train'] as const;
export type GallerySplit = (typeof GALLERY_SPLITS)[number];

/** The tracklets of a split (`test` = query + gallery), with the split each came from. */
export function splitTracklets(dataset: ReidDataset, split: GallerySplit): { tracklet: Tracklet; split: string }[] {
  const of = (name: 'train' | 'query' | 'gallery') => dataset[name].map((tracklet) => ({ tracklet, split: name }));
  if (split === 'test') return [...of('query'), ...of('gallery')];
  return of(split);
}

/**
 * A stable gallery id for a tracklet: its split and its first frame relative to the dataset root, so the same
 * tracklet gets the same id in every run (an interrupted `vkd index` resumes by skipping ids already stored).
 */
export function trackletId(root: string, split: string, tracklet: Tracklet): string {
  const first = tracklet.frames[0] ?? '';
  return `${split}:${relative(root, first).split('\\').join('/')}`;
}

/** Gallery records for tracklets and their embeddings ([n, D] row-major). */
export function galleryRecords(
  root: string,
  items: readonly { tracklet: Tracklet; split: string }[],
  features: Float32Array,
  dimension: number,
): TrackletRecord[] {
  return items.map(({ tracklet, split }, row) => ({
    trackletId: trackletId(root, split, tracklet),
    embedding: features.subarray(row * dimension, (row + 1) * dimension),
    identity: tracklet.identity,
    camera: tracklet.camera,
    framePaths: tracklet.frames,
  }));
}
