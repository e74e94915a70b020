import type { ReidDataset } from '@vkd/datasets';
import type { ReidModel } from '@vkd/models';
import type { TrackletBatch } from '@vkd/datasets/node';
import type { TrainerHooks } from '@vkd/trainer';
import type { DataSettings } from '../config/stage-settings';
import { evaluateRun } from './evaluate-run';
import type { RunLog } from './run-log';

/**
 * Evaluates `model` every `every` epochs (I2V and V2V, no sweep) and stores `i2v.rank1`, `i2v.mAP`, `v2v.rank1`,
 * `v2v.mAP` in `context.metrics`, where the checkpoint hook (placed after it) picks the best checkpoint and the JSONL
 * log records them. `every = 0` disables it.
 */
export function evaluationHook(model: ReidModel, dataset: ReidDataset, data: DataSettings, every: number, log: RunLog, label: string): TrainerHooks<TrackletBatch> {
  return {
    async afterEpoch(context) {
      const next = context.epoch + 1;
      if (every <= 0 || next % every !== 0) return;
      const metrics = await evaluateRun(model, dataset, data, log, `${label} @ epoch ${next}`, []);
      context.metrics['i2v.rank1'] = metrics.i2v.rank1;
      context.metrics['i2v.mAP'] = metrics.i2v.mAPTrapezoid;
      if (metrics.v2v) {
        context.metrics['v2v.rank1'] = metrics.v2v.rank1;
        context.metrics['v2v.mAP'] = metrics.v2v.mAPTrapezoid;
      }
      const text = Object.entries(context.metrics).map(([name, value]) => `${name} ${(value * 100).toFixed(2)}`).join('  ');
      log.info(`${label} epoch ${next}: ${text}`);
    },
  };
}
