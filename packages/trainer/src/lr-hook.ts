import type { MultiStepLr } from './lr-schedule';
import type { TrainerHooks } from './trainer';

/**
 * Sets the optimiser's learning rate from `schedule` at the start of every epoch (PyTorch steps `MultiStepLR` once
 * per epoch). The rate depends only on the epoch, so a resumed run picks up the same value.
 */
export function learningRateHook<Batch>(schedule: MultiStepLr): TrainerHooks<Batch> {
  return {
    beforeEpoch(context) {
      context.step.optimizer.learningRate = schedule.learningRateAt(context.epoch);
    },
  };
}
