import type { TrainerHooks } from '@vkd/trainer';
import type { ProgressBar } from '../output/progress-bar';
import type { RunLog } from './run-log';

const SHORT_NAMES: Record<string, string> = { crossEntropy: 'ce', triplet: 'tri', logitDistillation: 'kd', distancePreserving: 'dp' };

/** `{ crossEntropy: 1.2, triplet: 0.3 }` → `ce 1.200 tri 0.300`. */
export function formatLosses(losses: Record<string, number>): string {
  return Object.entries(losses)
    .map(([name, value]) => `${SHORT_NAMES[name] ?? name} ${value.toPrecision(4)}`)
    .join(' ');
}

/**
 * A trainer hook drawing one progress bar per epoch (ETA, images/s, running loss) and, when bars are off (non-TTY,
 * CI, --quiet), one summary line per epoch instead (hidden by --quiet).
 * @param label e.g. `teacher`.
 * @param stepsPerEpoch batches per epoch (⌊identities / P⌋).
 */
export function progressHook<Batch>(log: RunLog, label: string, stepsPerEpoch: number): TrainerHooks<Batch> {
  let bar: ProgressBar | undefined;
  return {
    beforeEpoch(context) {
      bar = log.progress(`${label} epoch ${context.epoch + 1}/${context.epochs}`, stepsPerEpoch, 'img');
    },
    afterStep(_context, record) {
      bar?.tick(1, record.images, `loss ${record.total.toPrecision(4)}`);
    },
    afterEpoch(context, summary) {
      const metrics = Object.entries(summary.metrics).map(([name, value]) => `${name} ${(value * 100).toFixed(1)}`).join(' ');
      const line = `loss ${summary.total.toPrecision(4)} (${formatLosses(summary.losses)}) lr ${summary.learningRate.toExponential(1)} ${summary.imagesPerSecond.toFixed(1)} img/s${metrics ? ` | ${metrics}` : ''}`;
      if (log.interactive) bar?.done(line);
      else log.info(`${label} epoch ${context.epoch + 1}/${context.epochs}: ${line}`);
      bar = undefined;
    },
  };
}
