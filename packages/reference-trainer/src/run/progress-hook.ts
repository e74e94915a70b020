import type { TrainerHooks } from '@vkd/trainer';
import { formatDuration, type ProgressBar } from '../output/progress-bar';
import type { RunLog } from './run-log';

const SHORT_NAMES: Record<string, string> = {
  crossEntropy: 'ce',
  triplet: 'tri',
  logitDistillation: 'kd',
  distancePreserving: 'dp',
};

/** `{ crossEntropy: 1.2, triplet: 0.3 }` → `ce 1.200 tri 0.300`. */
export function formatLosses(losses: Record<string, number>): string {
  return Object.entries(losses)
    .map(([name, value]) => `${SHORT_NAMES[name] ?? name} ${value.toPrecision(4)}`)
    .join(' ');
}

/** Steps timed for the ETA line, after the first one (which includes one-off warm-up: kernel compilation, caches). */
export const ETA_STEPS = 2;

/** A step slower than this gets a hint on what makes steps slow. */
const SLOW_STEP_SECONDS = 10;

/**
 * The ETA line printed once after the first steps: seconds per step, per epoch and for the rest of the run, with a
 * hint when steps are slow.
 */
export function etaLine(label: string, secondsPerStep: number, stepsPerEpoch: number, stepsLeft: number): string {
  const hint =
    secondsPerStep > SLOW_STEP_SECONDS
      ? ' Steps are slow: the time grows with P×K×N frames and the input size; for a quick try lower --identities-per-batch, --frames-per-tracklet, --height/--width or --base-width (README, "Quick try on your own data").'
      : '';
  return `${label}: ${secondsPerStep.toFixed(2)} s per step → about ${formatDuration(secondsPerStep * stepsPerEpoch)} per epoch, ETA ${formatDuration(secondsPerStep * stepsLeft)} for the ${stepsLeft} steps left.${hint}`;
}

/**
 * A trainer hook drawing one progress bar per epoch (ETA, images/s, running loss) and, when bars are off (non-TTY,
 * CI), plain progress lines and one summary line per epoch instead (all hidden by --quiet). After the first
 * {@link ETA_STEPS} + 1 steps it prints the ETA of the run once.
 * @param label e.g. `teacher`.
 * @param stepsPerEpoch batches per epoch (⌊identities / P⌋).
 * @param epochs epochs of the run.
 */
export function progressHook<Batch>(
  log: RunLog,
  label: string,
  stepsPerEpoch: number,
  epochs = 1,
): TrainerHooks<Batch> {
  let bar: ProgressBar | undefined;
  let timed = -1;
  let firstStepEnd = 0;
  return {
    beforeEpoch(context) {
      bar = log.progress(`${label} epoch ${context.epoch + 1}/${context.epochs}`, stepsPerEpoch, 'img');
    },
    afterStep(context, record) {
      bar?.tick(1, record.images, `loss ${record.total.toPrecision(4)}`);
      if (timed >= ETA_STEPS) return;
      timed += 1;
      if (timed === 0) {
        firstStepEnd = performance.now();
        return;
      }
      const stepsDone = context.epoch * stepsPerEpoch + record.epochStep + 1;
      const lastOfEpoch = record.epochStep + 1 >= stepsPerEpoch;
      if (timed === ETA_STEPS || lastOfEpoch) {
        const secondsPerStep = (performance.now() - firstStepEnd) / 1000 / timed;
        timed = ETA_STEPS;
        if (log.interactive) bar?.done();
        log.info(etaLine(label, secondsPerStep, stepsPerEpoch, Math.max(0, epochs * stepsPerEpoch - stepsDone)));
        if (log.interactive)
          bar = log.progress(
            `${label} epoch ${context.epoch + 1}/${context.epochs}`,
            stepsPerEpoch - record.epochStep - 1,
            'img',
          );
      }
    },
    afterEpoch(context, summary) {
      const metrics = Object.entries(summary.metrics)
        .map(([name, value]) => `${name} ${(value * 100).toFixed(1)}`)
        .join(' ');
      const line = `loss ${summary.total.toPrecision(4)} (${formatLosses(summary.losses)}) lr ${summary.learningRate.toExponential(1)} ${summary.imagesPerSecond.toFixed(1)} img/s${metrics ? ` | ${metrics}` : ''}`;
      if (log.interactive) bar?.done(line);
      else log.info(`${label} epoch ${context.epoch + 1}/${context.epochs}: ${line}`);
      bar = undefined;
    },
  };
}
