import { evaluateThroughGallery, openGallery } from '@vkd/gallery';
import type { ReidDataset } from '@vkd/datasets';
import type { ReidModel } from '@vkd/models';
import type { DataSettings } from '../config/stage-settings';
import type { ProtocolFeatures } from './evaluation-features';
import { galleryModelOf } from './gallery-model';
import type { RunLog } from './run-log';

/** Tracklets retrieved per query when evaluating through a gallery database. */
export const GALLERY_DB_TOP = 100;

/** One protocol's metrics through the gallery index (fractions, as the rest of metrics.json). */
export interface GalleryDbMetrics {
  readonly rank1: number;
  readonly rank5: number;
  readonly mAP: number;
  readonly mAPTrapezoid: number;
  /** Tracklets retrieved per query; the rest count as ranked after them. */
  readonly top: number;
  readonly queriesPerSecond: number;
}

/**
 * `vkd evaluate --gallery-db DIR`: the I2V and V2V queries of an evaluation ranked through the gallery database's
 * index (top {@link GALLERY_DB_TOP} per query) instead of exactly in memory.
 * @throws ModelMismatchError when the database holds another model's embeddings, GalleryCorruptError.
 */
export async function evaluateThroughGalleryDb(
  directory: string,
  modelDirectory: string,
  model: ReidModel,
  data: DataSettings,
  pairs: readonly ProtocolFeatures[],
  dataset: ReidDataset,
  log: RunLog,
): Promise<Partial<Record<'i2v' | 'v2v', GalleryDbMetrics>>> {
  const gallery = await openGallery(directory, { model: await galleryModelOf(modelDirectory, model, data) });
  try {
    const count = await gallery.count();
    if (count !== dataset.gallery.length) {
      log.warn(
        `the gallery database holds ${count} tracklets, the dataset's gallery ${dataset.gallery.length}: index its gallery split (vkd index --split gallery) for comparable numbers`,
      );
    }
    if (dataset.evaluation?.junkGallery !== undefined) {
      log.warn(
        `${dataset.name}'s per-query junk gallery items are not applied through the database (only same-identity-same-camera and junk identities)`,
      );
    }
    const results: Partial<Record<'i2v' | 'v2v', GalleryDbMetrics>> = {};
    for (const pair of pairs) {
      if (pair.protocol !== 'i2v' && pair.protocol !== 'v2v') continue;
      const evaluation = await evaluateThroughGallery(gallery, {
        queryFeatures: pair.query.features,
        queryIdentities: pair.query.identities,
        queryCameras: pair.query.cameras,
        top: Math.min(GALLERY_DB_TOP, count),
        ...(dataset.evaluation ? { excludeSameCamera: dataset.evaluation.excludeSameCamera } : {}),
      });
      const { cmc, mAP, mAPTrapezoid } = evaluation.result;
      results[pair.protocol] = {
        rank1: cmc[0] ?? 0,
        rank5: cmc[Math.min(4, cmc.length - 1)] ?? 0,
        mAP,
        mAPTrapezoid,
        top: evaluation.top,
        queriesPerSecond: evaluation.queries / evaluation.seconds,
      };
    }
    return results;
  } finally {
    await gallery.close();
  }
}

/** Exact (in memory) against through-the-index metrics, percentages. */
export function formatGalleryDbTable(
  exact: Partial<Record<'i2v' | 'v2v', { rank1: number; mAP: number; mAPTrapezoid?: number }>>,
  throughIndex: Partial<Record<'i2v' | 'v2v', GalleryDbMetrics>>,
): string {
  const percent = (value: number | undefined) => (value === undefined ? '-' : (100 * value).toFixed(2));
  const lines = ['protocol  metric   exact  through the index', '--------  -------  -----  -----------------'];
  for (const protocol of ['i2v', 'v2v'] as const) {
    const index = throughIndex[protocol];
    if (!index) continue;
    lines.push(
      `${protocol.toUpperCase().padEnd(8)}  rank-1   ${percent(exact[protocol]?.rank1).padStart(5)}  ${percent(index.rank1)}`,
    );
    lines.push(
      `${''.padEnd(8)}  mAP      ${percent(exact[protocol]?.mAP).padStart(5)}  ${percent(index.mAP)} (top ${index.top} retrieved, ${index.queriesPerSecond.toFixed(0)} queries/s)`,
    );
  }
  return lines.join('\n');
}
