import { join } from 'node:path';
import { InvalidOptionError } from '@vkd/core';
import { cameraName, type ReidDataset, type Tracklet } from '@vkd/datasets';
import { evaluateRanking, pairwiseDistances } from '@vkd/metrics';
import { writeRankedGrid, type RankedRow } from '../report/ranked-grid';
import type { ProtocolFeatures } from './evaluation-features';

/** Which queries `vkd evaluate --ranked` draws. */
export interface RankedSelection {
  /** The N queries with the lowest AP (ties: the later first match first). */
  readonly worst?: number;
  /** Query indices (into the dataset's query list) chosen by the user; drawn instead of the worst. */
  readonly queries?: readonly number[];
  /** Gallery tracklets per row (default 10). */
  readonly top?: number;
}

/** Frames shown for a video query. */
const VIDEO_QUERY_FRAMES = 4;

/** The tracklet behind gallery row `row` of a protocol's gallery features (gallery tracklets or split frames). */
function galleryTracklet(dataset: ReidDataset, pair: ProtocolFeatures, row: number): { frame: string } {
  const index = pair.gallery.trackletIndices[row] as number;
  if (pair.galleryName === 'gallery') return { frame: (dataset.gallery[index] as Tracklet).frames[0] as string };
  const frames = dataset.gallery.flatMap((tracklet) => tracklet.frames);
  return { frame: frames[index] as string };
}

/**
 * Writes `ranked-<protocol>.png` per protocol (torchreid's `visrank`): for the chosen or worst queries, the query
 * frame(s) and the top-k gallery tracklets' first frames by cosine distance, junk items (same identity and camera,
 * junk identities) left out as the metrics do, green/red borders for correct/wrong and the distance under each.
 * @returns the PNG paths.
 * @throws InvalidOptionError (`--ranked-queries`) for a query index outside the query list.
 */
export async function writeRankedResults(
  pairs: readonly ProtocolFeatures[],
  dataset: ReidDataset,
  selection: RankedSelection,
  directory: string,
): Promise<string[]> {
  const top = selection.top ?? 10;
  const written: string[] = [];
  for (const pair of pairs) {
    const { query, gallery } = pair;
    const numGallery = gallery.count;
    const distances = pairwiseDistances(query.features, gallery.features, query.dim, { metric: 'cosine' });
    const ranking = evaluateRanking({
      distances,
      queryIdentities: query.identities,
      queryCameras: query.cameras,
      galleryIdentities: gallery.identities,
      galleryCameras: gallery.cameras,
      ...(dataset.evaluation ? { excludeSameCamera: dataset.evaluation.excludeSameCamera } : {}),
    });
    const rowOfQuery = new Map<number, number>();
    query.trackletIndices.forEach((tracklet, row) => rowOfQuery.set(tracklet, row));
    let rows: number[];
    if (selection.queries && selection.queries.length > 0) {
      rows = selection.queries.map((index) => {
        const row = rowOfQuery.get(index);
        if (row === undefined)
          throw new InvalidOptionError(
            '--ranked-queries',
            index,
            `Query ${index} does not exist; the dataset has queries 0..${dataset.query.length - 1}.`,
          );
        return row;
      });
    } else {
      const skipped = new Set(ranking.skippedQueries);
      rows = Array.from({ length: query.count }, (_, row) => row)
        .filter((row) => !skipped.has(row))
        .sort(
          (a, b) =>
            (ranking.perQuery.averagePrecision[a] as number) - (ranking.perQuery.averagePrecision[b] as number) ||
            (ranking.perQuery.firstHitRank[b] as number) - (ranking.perQuery.firstHitRank[a] as number) ||
            a - b,
        )
        .slice(0, selection.worst ?? 0);
    }
    if (rows.length === 0) continue;
    const drawn: RankedRow[] = rows.map((row) => {
      const identity = query.identities[row] as number;
      const camera = query.cameras[row] as number;
      const order = Array.from({ length: numGallery }, (_, column) => column)
        .filter(
          (column) =>
            !(
              gallery.identities[column] === identity &&
              (dataset.evaluation?.excludeSameCamera ?? true) &&
              gallery.cameras[column] === camera
            ),
        )
        .filter((column) => (gallery.identities[column] as number) !== -1)
        .sort(
          (a, b) => (distances[row * numGallery + a] as number) - (distances[row * numGallery + b] as number) || a - b,
        )
        .slice(0, top);
      const tracklet = dataset.query[query.trackletIndices[row] as number] as Tracklet;
      const video = pair.queryName === 'query-videos';
      return {
        queryFrames: video ? tracklet.frames.slice(0, VIDEO_QUERY_FRAMES) : [tracklet.frames[0] as string],
        label: `q${query.trackletIndices[row]} id ${identity} ${cameraName(dataset.name, camera)}`,
        results: order.map((column) => ({
          frame: galleryTracklet(dataset, pair, column).frame,
          distance: distances[row * numGallery + column] as number,
          correct: gallery.identities[column] === identity,
        })),
      };
    });
    const path = join(directory, `ranked-${pair.protocol}.png`);
    await writeRankedGrid(drawn, path);
    written.push(path);
  }
  return written;
}
