import { InvalidOptionError } from '@vkd/core';
import type { ReidDataset } from '@vkd/datasets';
import { evaluateModel, type EvaluateModelOptions, type EvaluationReport } from './evaluate-model';
import type { TrainerHooks } from './trainer';

/** Options of {@link evaluateHook}. */
export interface EvaluateHookOptions {
  dataset: ReidDataset;
  /** Passed to `evaluateModel` (imageSize, framesPerTracklet, protocols, …). */
  evaluation: EvaluateModelOptions;
  /** Evaluate after every `every` epochs (default 50, the authors' period) and after the last epoch. */
  every?: number;
  /** Receives every report (e.g. to write `metrics.json` or draw charts); the hook itself keeps nothing. */
  onReport?: (report: EvaluationReport, epoch: number) => void | Promise<void>;
}

/**
 * Evaluates the trained model (the student in VKD) after epochs and stores flat metrics in `context.metrics`:
 * `i2v.rank1`, `i2v.rank5`, `i2v.mAP`, `i2v.mAPTrapezoid`, `i2v.mINP`, and the same for `v2v`, `i2i`, `v2i`.
 * Place it before `checkpointHook` so the checkpoint (and its `best` selection) sees them.
 * @throws InvalidOptionError for `every` < 1.
 */
export function evaluateHook<Batch>(options: EvaluateHookOptions): TrainerHooks<Batch> {
  const every = options.every ?? 50;
  if (!(Number.isInteger(every) && every >= 1))
    throw new InvalidOptionError('evaluateHook.every', every, 'Use an integer >= 1.');
  return {
    async afterEpoch(context) {
      const done = context.epoch + 1;
      if (done % every !== 0 && done !== context.epochs) return;
      const report = await evaluateModel(context.step.model, options.dataset, options.evaluation);
      Object.assign(context.metrics, flattenReport(report));
      await options.onReport?.(report, context.epoch);
    },
  };
}

/** `{ 'v2v.mAP': …, 'i2v.rank1': … }` from a report's protocols. */
export function flattenReport(report: EvaluationReport): Record<string, number> {
  const metrics: Record<string, number> = {};
  for (const [protocol, summary] of Object.entries(report.protocols)) {
    if (!summary) continue;
    for (const key of ['rank1', 'rank5', 'rank10', 'mAP', 'mAPTrapezoid', 'mINP'] as const)
      metrics[`${protocol}.${key}`] = summary[key];
  }
  return metrics;
}
