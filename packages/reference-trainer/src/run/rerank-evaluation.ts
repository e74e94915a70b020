import type { ReidDataset } from '@vkd/datasets';
import { evaluateRanking, reRank } from '@vkd/metrics';
import { summarizeRanking } from '@vkd/trainer';
import type { ProtocolMetrics } from '../report/run-metrics';
import type { ProtocolFeatures } from './evaluation-features';
import { protocolMetrics } from './evaluate-run';

/**
 * k-reciprocal re-ranking (Zhong et al., CVPR 2017; `reRank` of `@vkd/metrics`, torchreid's defaults k1 = 20,
 * k2 = 6, λ = 0.3) of each protocol's cosine distances, then the same metrics as without it (same-identity-same-camera
 * junk; the dataset's own junk lists for the gallery tracklets).
 * @returns metrics per protocol, in the `metrics.json` form.
 */
export function rerankEvaluation(
  pairs: readonly ProtocolFeatures[],
  dataset: ReidDataset,
): Partial<Record<ProtocolFeatures['protocol'], ProtocolMetrics>> {
  const results: Partial<Record<ProtocolFeatures['protocol'], ProtocolMetrics>> = {};
  for (const pair of pairs) {
    const distances = reRank({
      queryFeatures: pair.query.features,
      galleryFeatures: pair.gallery.features,
      dim: pair.query.dim,
      metric: 'cosine',
    });
    const aligned = pair.galleryName === 'gallery';
    const ranking = evaluateRanking({
      distances,
      queryIdentities: pair.query.identities,
      queryCameras: pair.query.cameras,
      galleryIdentities: pair.gallery.identities,
      galleryCameras: pair.gallery.cameras,
      maxRank: 50,
      ...(dataset.evaluation ? { excludeSameCamera: dataset.evaluation.excludeSameCamera } : {}),
      ...(aligned && dataset.evaluation
        ? { junkGallery: (index: number) => dataset.evaluation?.junkGallery(index) }
        : {}),
    });
    results[pair.protocol] = protocolMetrics(summarizeRanking(ranking, pair.query.cameras));
  }
  return results;
}
