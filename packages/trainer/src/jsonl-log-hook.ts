import { appendText } from './checkpoint-files';
import type { EpochSummary, StepRecord, TrainerHooks } from './trainer';

/** One line of the JSONL training log. */
export type TrainingLogEntry =
  | ({ type: 'step'; time: string } & StepRecord)
  | ({ type: 'epoch'; time: string } & EpochSummary)
  | {
      type: 'train-start' | 'train-end';
      time: string;
      epoch: number;
      globalStep: number;
      epochs: number;
      stepKind: string;
    }
  | { type: 'error'; time: string; epoch: number; globalStep: number; name: string; message: string };

/** Options of {@link jsonlLogHook}. */
export interface JsonlLogHookOptions {
  /** File to append to (created with its directories). */
  path: string;
  /** Log every `everySteps`-th step (default 1); epochs are always logged. */
  everySteps?: number;
}

/**
 * Appends one JSON object per step and per epoch to a JSONL file: every loss term, the total, the learning rate,
 * images/s, epoch and step counters, and the epoch's metrics; plus `train-start`, `train-end` and, when training
 * fails (NaN loss), an `error` line with the message. Non-finite numbers are written as strings
 * (`"NaN"`), since JSON has no NaN.
 */
export function jsonlLogHook<Batch>(options: JsonlLogHookOptions): TrainerHooks<Batch> {
  const everySteps = options.everySteps ?? 1;
  const write = (entry: TrainingLogEntry) => appendText(options.path, `${JSON.stringify(entry, finiteOrString)}\n`);
  const time = () => new Date().toISOString();
  return {
    beforeTrain: (context) =>
      write({
        type: 'train-start',
        time: time(),
        epoch: context.epoch,
        globalStep: context.globalStep,
        epochs: context.epochs,
        stepKind: context.step.kind,
      }),
    afterStep: (_context, record) =>
      record.globalStep % everySteps === 0 ? write({ type: 'step', time: time(), ...record }) : undefined,
    afterEpoch: (_context, summary) => write({ type: 'epoch', time: time(), ...summary }),
    onError: (context, error) =>
      write({
        type: 'error',
        time: time(),
        epoch: context.epoch,
        globalStep: context.globalStep,
        name: error instanceof Error ? error.name : 'Error',
        message: error instanceof Error ? error.message : String(error),
      }),
    afterTrain: (context) =>
      write({
        type: 'train-end',
        time: time(),
        epoch: context.epoch,
        globalStep: context.globalStep,
        epochs: context.epochs,
        stepKind: context.step.kind,
      }),
  };
}

function finiteOrString(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? String(value) : value;
}
