import type { ReidDataset } from '@vkd/datasets';
import type { ReidModel } from '@vkd/models';
import type { TrackletBatch } from '@vkd/datasets/node';
import type { TrainerHooks } from '@vkd/trainer';
import type { DataSettings } from '../config/stage-settings';
import { evaluateRun } from './evaluate-run';
import type { RunLog } from './run-log';

/** The metric the checkpoint hook picks the best checkpoint by: I2V trapezoid mAP (what the VKD paper reports). */
export const BEST_CHECKPOINT_METRIC = 'i2v.mAPTrapezoid';

/**
 * Evaluates `model` every `every` epochs (I2V and V2V, no sweep) and stores `i2v.rank1`, `i2v.mAP`
 * (non-interpolated), `i2v.mAPTrapezoid` and the same for `v2v` in `context.metrics` — the names of `metrics.json` —
 * where the checkpoint hook (placed after it) picks the best checkpoint by {@link BEST_CHECKPOINT_METRIC} and the
 * JSONL log records them. `every = 0` disables it.
 */
export function evaluationHook(
  model: ReidModel,
  dataset: ReidDataset,
  data: DataSettings,
  every: number,
  log: RunLog,
  label: string,
): TrainerHooks<TrackletBatch> {
  return {
    async afterEpoch(context) {
      const next = context.epoch + 1;
      if (every <= 0 || next % every !== 0) return;
      const metrics = await evaluateRun(model, dataset, data, log, `${label} @ epoch ${next}`, []);
      for (const protocol of ['i2v', 'v2v'] as const) {
        const values = metrics[protocol];
        if (!values) continue;
        context.metrics[`${protocol}.rank1`] = values.rank1;
        context.metrics[`${protocol}.mAP`] = values.mAP;
        context.metrics[`${protocol}.mAPTrapezoid`] = values.mAPTrapezoid;
      }
      const text = Object.entries(context.metrics)
        .map(([name, value]) => `${name} ${(value * 100).toFixed(2)}`)
        .join('  ');
      log.info(`${label} epoch ${next}: ${text}`);
    },
  };
}
