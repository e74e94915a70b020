import { InvalidOptionError, NonFiniteValueError, VkdError } from '@vkd/core';
import type { StepOutput, TrainingStep } from './training-step';

/** Batches of one epoch; `getState`/`setState` let checkpoints restore the sampler between epochs. */
export interface EpochData<Batch> {
  /** The batches of 0-based epoch `epoch`. Called once per epoch, in order. */
  batches(epoch: number): AsyncIterable<Batch> | Iterable<Batch>;
  /** JSON-serialisable state (e.g. the identity sampler's RNG) taken after an epoch ends. */
  getState?(): unknown;
  setState?(state: unknown): void;
}

/** One finished step as the hooks see it. */
export interface StepRecord extends StepOutput {
  epoch: number;
  /** 0-based index within the epoch. */
  epochStep: number;
  /** Steps completed since the start of training, this one included. */
  globalStep: number;
  learningRate: number;
  seconds: number;
  imagesPerSecond: number;
}

/** Means over one epoch. */
export interface EpochSummary {
  epoch: number;
  steps: number;
  total: number;
  losses: Record<string, number>;
  images: number;
  seconds: number;
  imagesPerSecond: number;
  learningRate: number;
  /** Numbers hooks stored in `context.metrics` during this epoch (e.g. evaluation results). */
  metrics: Record<string, number>;
}

/** What `fit` returns. */
export interface FitResult {
  epochs: EpochSummary[];
  /** Next epoch to run (= number of completed epochs). */
  nextEpoch: number;
  globalStep: number;
  stopped: boolean;
  stopReason?: string;
}

/** Shared, mutable view of the run passed to every hook. */
export interface TrainerContext<Batch> {
  readonly step: TrainingStep<Batch>;
  readonly data: EpochData<Batch>;
  /** Total epochs of this run (the loop runs `epoch < epochs`). */
  readonly epochs: number;
  /** Current 0-based epoch. */
  epoch: number;
  /** Completed steps since the start of training (restored on resume). */
  globalStep: number;
  /** Metrics for the current epoch, written by hooks (an evaluation hook sets e.g. `v2v.mAP`). */
  metrics: Record<string, number>;
  /** Path of the newest checkpoint written by a checkpoint hook. */
  lastCheckpoint?: string;
  /**
   * Path of the newest checkpoint written while the run was healthy (no divergence suspected), quoted when training
   * stops on NaN or divergence; the checkpoint hook never rotates it away.
   */
  lastGoodCheckpoint?: string;
  /**
   * Set by a divergence monitor (`divergenceHook`) while the loss is far above its running level (the reason), and
   * cleared when it comes back; checkpoints written meanwhile are not "good".
   */
  divergence?: string;
  /** Asks the loop to stop after the current step. */
  requestStop(reason: string): void;
}

/** Lifecycle callbacks (fast-reid's `HookBase` names). All may be async; they run in array order. */
export interface TrainerHooks<Batch = unknown> {
  beforeTrain?(context: TrainerContext<Batch>): void | Promise<void>;
  beforeEpoch?(context: TrainerContext<Batch>): void | Promise<void>;
  beforeStep?(context: TrainerContext<Batch>, batch: Batch): void | Promise<void>;
  afterStep?(context: TrainerContext<Batch>, record: StepRecord): void | Promise<void>;
  afterEpoch?(context: TrainerContext<Batch>, summary: EpochSummary): void | Promise<void>;
  afterTrain?(context: TrainerContext<Batch>, result: FitResult): void | Promise<void>;
  /** Called once when training fails (e.g. a NaN loss), before `fit` rejects with `error`; `afterTrain` is not called. */
  onError?(context: TrainerContext<Batch>, error: unknown): void | Promise<void>;
}

/** Options of `Trainer.fit`. */
export interface FitOptions {
  /** Total epochs (the run ends after epoch `epochs − 1`). */
  epochs: number;
  /** First epoch to run (default 0); a resume sets it from the checkpoint. */
  startEpoch?: number;
  /** Steps already done before `startEpoch` (default 0). */
  globalStep?: number;
}

/** The training loop. It returns data and never prints. */
export interface Trainer<Batch> {
  readonly step: TrainingStep<Batch>;
  readonly hooks: readonly TrainerHooks<Batch>[];
  fit(data: EpochData<Batch>, options: FitOptions): Promise<FitResult>;
}

/** Options of {@link createTrainer}. */
export interface TrainerOptions<Batch> {
  step: TrainingStep<Batch>;
  hooks?: readonly TrainerHooks<Batch>[];
  /** Clock in milliseconds (default `performance.now`); injectable for tests. */
  now?: () => number;
}

/**
 * Creates the loop `for epoch: for batch: step.run(batch)` with hooks around each stage. LR schedules, checkpoints,
 * evaluation and logs are hooks; the step (`teacherStep`, `distillStep`) is injected.
 * @throws NonFiniteValueError from `fit` when a loss becomes NaN/Inf, naming the epoch, step, terms and the last
 * good checkpoint (the failing update is never applied and no checkpoint is written after it).
 */
export function createTrainer<Batch>(options: TrainerOptions<Batch>): Trainer<Batch> {
  const { step } = options;
  const hooks = [...(options.hooks ?? [])];
  const now = options.now ?? (() => performance.now());
  const runHooks: HookRunner<Batch> = async (name, ...args) => {
    for (const hook of hooks) {
      const callback = hook[name] as ((...values: unknown[]) => void | Promise<void>) | undefined;
      if (callback) await callback.apply(hook, args);
    }
  };

  return {
    step,
    hooks,
    async fit(data, fitOptions) {
      const { epochs, startEpoch = 0, globalStep = 0 } = fitOptions;
      if (!(Number.isInteger(epochs) && epochs >= 0))
        throw new InvalidOptionError('fit.epochs', epochs, 'Use an integer >= 0.');
      if (!(Number.isInteger(startEpoch) && startEpoch >= 0)) {
        throw new InvalidOptionError('fit.startEpoch', startEpoch, 'Use an integer >= 0.');
      }
      let stopReason: string | undefined;
      const context: TrainerContext<Batch> = {
        step,
        data,
        epochs,
        epoch: startEpoch,
        globalStep,
        metrics: {},
        requestStop(reason) {
          stopReason ??= reason;
        },
      };
      const summaries: EpochSummary[] = [];
      try {
        await runHooks('beforeTrain', context);
        for (let epoch = startEpoch; epoch < epochs && stopReason === undefined; epoch++) {
          summaries.push(await runEpoch(context, epoch, runHooks, now, () => stopReason !== undefined));
        }
      } catch (error) {
        await runHooks('onError', context, error);
        throw error;
      }
      const result: FitResult = {
        epochs: summaries,
        nextEpoch: summaries.length > 0 ? (summaries[summaries.length - 1] as EpochSummary).epoch + 1 : startEpoch,
        globalStep: context.globalStep,
        stopped: stopReason !== undefined,
        ...(stopReason === undefined ? {} : { stopReason }),
      };
      await runHooks('afterTrain', context, result);
      return result;
    },
  };
}

type HookRunner<Batch> = <Name extends keyof TrainerHooks<Batch>>(
  name: Name,
  ...args: Parameters<NonNullable<TrainerHooks<Batch>[Name]>>
) => Promise<void>;

/** One epoch: beforeEpoch, then beforeStep / step / afterStep per batch, then afterEpoch. */
async function runEpoch<Batch>(
  context: TrainerContext<Batch>,
  epoch: number,
  runHooks: HookRunner<Batch>,
  now: () => number,
  stopped: () => boolean,
): Promise<EpochSummary> {
  const { step } = context;
  context.epoch = epoch;
  context.metrics = {};
  await runHooks('beforeEpoch', context);
  const totals = createAccumulator();
  let epochStep = 0;
  const epochStart = now();
  for await (const batch of context.data.batches(epoch)) {
    await runHooks('beforeStep', context, batch);
    const learningRate = step.optimizer.learningRate;
    const started = now();
    const output = await runStep(step, batch, context, epochStep);
    const seconds = (now() - started) / 1000;
    context.globalStep += 1;
    totals.add(output, seconds);
    const record: StepRecord = {
      ...output,
      epoch,
      epochStep,
      globalStep: context.globalStep,
      learningRate,
      seconds,
      imagesPerSecond: seconds > 0 ? output.images / seconds : 0,
    };
    epochStep += 1;
    await runHooks('afterStep', context, record);
    if (stopped()) break;
  }
  const summary: EpochSummary = {
    epoch,
    ...totals.means(),
    learningRate: step.optimizer.learningRate,
    seconds: (now() - epochStart) / 1000,
    metrics: context.metrics,
  };
  // Evaluation hooks add metrics during afterEpoch; summary.metrics is the same object, so it sees them.
  await runHooks('afterEpoch', context, summary);
  return summary;
}

async function runStep<Batch>(
  step: TrainingStep<Batch>,
  batch: Batch,
  context: TrainerContext<Batch>,
  epochStep: number,
) {
  try {
    return await step.run(batch);
  } catch (error) {
    if (error instanceof NonFiniteValueError || (VkdError.isInstance(error) && error.name === 'NonFiniteValueError')) {
      const last = context.lastGoodCheckpoint ?? context.lastCheckpoint;
      const checkpoint =
        last === undefined
          ? 'No checkpoint was written yet.'
          : `The last good checkpoint is ${last}; resume from it with a lower learning rate.`;
      throw new NonFiniteValueError(
        `training epoch ${context.epoch} step ${epochStep} (global ${context.globalStep})`,
        `${error.message}. Training stopped before applying this update. ${checkpoint}`,
      );
    }
    throw error;
  }
}

function createAccumulator() {
  let steps = 0;
  let images = 0;
  let seconds = 0;
  let total = 0;
  const losses: Record<string, number> = {};
  return {
    add(output: StepOutput, stepSeconds: number) {
      steps += 1;
      images += output.images;
      seconds += stepSeconds;
      total += output.total;
      for (const [name, value] of Object.entries(output.losses)) losses[name] = (losses[name] ?? 0) + value;
    },
    means() {
      const mean = (value: number) => (steps > 0 ? value / steps : Number.NaN);
      return {
        steps,
        images,
        total: mean(total),
        losses: Object.fromEntries(Object.entries(losses).map(([name, value]) => [name, mean(value)])),
        imagesPerSecond: seconds > 0 ? images / seconds : 0,
      };
    },
  };
}
