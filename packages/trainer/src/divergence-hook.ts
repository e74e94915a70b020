import { InvalidOptionError, TrainingDivergedError } from '@vkd/core';
import type { TrainerHooks } from './trainer';

/** Options of {@link divergenceHook}. */
export interface DivergenceHookOptions {
  /** A step is "high" when its loss exceeds `factor` × the running level + `margin` (defaults 4 and 1). */
  factor?: number;
  margin?: number;
  /** Consecutive high steps that stop the run (default 5). */
  patience?: number;
  /** Steps that only set the running level, never flagged (default 5). */
  warmupSteps?: number;
  /** Weight of a healthy step in the running level (exponential moving average, default 0.1). */
  smoothing?: number;
}

/**
 * Notices divergence that never produces a NaN (e.g. a learning rate of 10 drives the loss from 3.8 to 9,326): it
 * keeps a running level of the loss over healthy steps; while a step's loss is above `factor` × level + `margin` it
 * sets `context.divergence` (checkpoints written meanwhile are not "good"), and after `patience` such steps in a row
 * it stops training with a TrainingDivergedError naming the last good checkpoint, like a NaN loss does.
 * Place it before the checkpoint hook. It does not change what is trained, so resumed runs stay bit-exact.
 * @throws InvalidOptionError for out-of-range options.
 */
export function divergenceHook<Batch>(options: DivergenceHookOptions = {}): TrainerHooks<Batch> {
  const { factor = 4, margin = 1, patience = 5, warmupSteps = 5, smoothing = 0.1 } = options;
  if (!(factor >= 1)) throw new InvalidOptionError('divergenceHook.factor', factor, 'Use a number >= 1.');
  if (!(margin >= 0)) throw new InvalidOptionError('divergenceHook.margin', margin, 'Use a number >= 0.');
  if (!(Number.isInteger(patience) && patience >= 1))
    throw new InvalidOptionError('divergenceHook.patience', patience, 'Use an integer >= 1.');
  if (!(Number.isInteger(warmupSteps) && warmupSteps >= 1))
    throw new InvalidOptionError('divergenceHook.warmupSteps', warmupSteps, 'Use an integer >= 1.');
  if (!(smoothing > 0 && smoothing <= 1))
    throw new InvalidOptionError('divergenceHook.smoothing', smoothing, 'Use a number in (0, 1].');
  let level: number | undefined;
  let seen = 0;
  let high = 0;
  return {
    beforeTrain() {
      level = undefined;
      seen = 0;
      high = 0;
    },
    afterStep(context, record) {
      const loss = record.total;
      seen += 1;
      if (level === undefined || seen <= warmupSteps) {
        level = level === undefined ? loss : level + (loss - level) / seen;
        return;
      }
      const limit = factor * level + margin;
      if (loss <= limit) {
        high = 0;
        context.divergence = undefined;
        level += smoothing * (loss - level);
        return;
      }
      high += 1;
      context.divergence = `loss ${loss.toPrecision(4)} above ${limit.toPrecision(4)} (${factor}× its running level ${level.toPrecision(4)} + ${margin}) for ${high} steps`;
      if (high >= patience) {
        const last = context.lastGoodCheckpoint;
        throw new TrainingDivergedError(
          `training epoch ${record.epoch} step ${record.epochStep} (global ${record.globalStep})`,
          `the run diverged: ${context.divergence}. Training stopped. ${last === undefined ? 'No good checkpoint was written yet.' : `The last good checkpoint is ${last}; resume from it with a lower learning rate.`}`,
          last,
        );
      }
    },
  };
}
