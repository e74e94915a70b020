import { rm } from 'node:fs/promises';
import path from 'node:path';
import { InvalidOptionError } from '@vkd/core';
import { CHECKPOINT_INDEX, readCheckpointIndex, saveCheckpoint, type CheckpointIndex } from './checkpoint';
import { recoverInterruptedWrites, writeFileAtomically } from './checkpoint-files';
import type { TrainerHooks } from './trainer';

/** Options of {@link checkpointHook}. */
export interface CheckpointHookOptions {
  /** Directory holding `epoch-NNNN/` checkpoints and `checkpoints.json`. */
  directory: string;
  /** Save after every `every` epochs (default 1) and always after the last epoch. */
  every?: number;
  /** Number of most recent checkpoints kept (default 3); the best one is kept in addition. */
  keepLast?: number;
  /** Metric in `context.metrics` (set by an evaluation hook placed before this one) that selects the best checkpoint. */
  best?: { metric: string; mode?: 'max' | 'min' };
  /** Largest |weight| a checkpoint may hold (default `DEFAULT_WEIGHT_BOUND`, 1e6); beyond it the run diverged. */
  weightBound?: number;
}

/** Name of the checkpoint written after 0-based epoch `epoch`: `epoch-0001` after the first epoch. */
export function checkpointName(nextEpoch: number): string {
  return `epoch-${String(nextEpoch).padStart(4, '0')}`;
}

/**
 * Saves atomic checkpoints after epochs, keeps the last `keepLast` plus the best plus the last good one, and records
 * them in `checkpoints.json` (written by temp + rename). A checkpoint is "good" when no divergence was suspected as it
 * was written (`context.divergence` unset, see `divergenceHook`); `lastGood` in the index and
 * `context.lastGoodCheckpoint` name the newest, which the trainer quotes when a NaN loss or divergence stops training.
 * No checkpoint is ever written with NaN/Inf weights or moments, or with weights beyond `weightBound`: that stops
 * the run. Before training, temporaries left by a crashed writer are cleaned up (`recoverInterruptedWrites`).
 * @throws InvalidOptionError for `every`/`keepLast` < 1.
 */
export function checkpointHook<Batch>(options: CheckpointHookOptions): TrainerHooks<Batch> {
  const { directory, every = 1, keepLast = 3, best } = options;
  if (!(Number.isInteger(every) && every >= 1))
    throw new InvalidOptionError('checkpointHook.every', every, 'Use an integer >= 1.');
  if (!(Number.isInteger(keepLast) && keepLast >= 1)) {
    throw new InvalidOptionError('checkpointHook.keepLast', keepLast, 'Use an integer >= 1.');
  }
  const mode = best?.mode ?? 'max';
  return {
    async beforeTrain(context) {
      await recoverInterruptedWrites(directory);
      const index = await readCheckpointIndex(directory);
      const lastGood = index?.lastGood ?? index?.latest;
      if (lastGood !== undefined) context.lastGoodCheckpoint = path.join(directory, lastGood);
    },
    async afterEpoch(context) {
      const nextEpoch = context.epoch + 1;
      if (nextEpoch % every !== 0 && nextEpoch !== context.epochs) return;
      const name = checkpointName(nextEpoch);
      const state = await saveCheckpoint(path.join(directory, name), {
        step: context.step,
        data: context.data,
        nextEpoch,
        globalStep: context.globalStep,
        metrics: context.metrics,
        ...(options.weightBound === undefined ? {} : { weightBound: options.weightBound }),
      }).catch((error: unknown) => {
        if (error instanceof Error && context.lastGoodCheckpoint !== undefined) {
          error.message += `. The last good checkpoint is ${context.lastGoodCheckpoint}`;
        }
        throw error;
      });
      const index: CheckpointIndex = (await readCheckpointIndex(directory)) ?? { checkpoints: [] };
      index.checkpoints = index.checkpoints.filter((entry) => entry.name !== name);
      index.checkpoints.push({
        name,
        nextEpoch,
        globalStep: state.globalStep,
        metrics: state.metrics,
        savedAt: state.savedAt,
      });
      index.latest = name;
      const good = context.divergence === undefined;
      if (good) index.lastGood = name;
      const value = best ? context.metrics[best.metric] : undefined;
      if (best && value !== undefined && Number.isFinite(value)) {
        const better =
          index.best === undefined ||
          index.best.metric !== best.metric ||
          (mode === 'max' ? value > index.best.value : value < index.best.value);
        if (better) index.best = { name, metric: best.metric, value, mode };
      }
      const kept = new Set(index.checkpoints.slice(-keepLast).map((entry) => entry.name));
      if (index.best) kept.add(index.best.name);
      if (index.lastGood) kept.add(index.lastGood);
      const removed = index.checkpoints.filter((entry) => !kept.has(entry.name));
      index.checkpoints = index.checkpoints.filter((entry) => kept.has(entry.name));
      // Publish the index before deleting, so it never names a missing checkpoint.
      await writeFileAtomically(path.join(directory, CHECKPOINT_INDEX), `${JSON.stringify(index, null, 2)}\n`);
      for (const entry of removed) await rm(path.join(directory, entry.name), { recursive: true, force: true });
      context.lastCheckpoint = path.join(directory, name);
      if (good) context.lastGoodCheckpoint = context.lastCheckpoint;
    },
  };
}
