import { InvalidOptionError } from '@vkd/core';

/** Options of {@link multiStepLr}: PyTorch `MultiStepLR(milestones, gamma)` stepped once per epoch. */
export interface MultiStepLrOptions {
  /** Learning rate of epoch 0 (default 1e-4, VKD). */
  baseLearningRate?: number;
  /** 0-based epochs at which the rate is multiplied by `gamma`, increasing. */
  milestones: readonly number[];
  /** Decay factor (default 0.1). */
  gamma?: number;
}

/** A per-epoch learning-rate schedule; pure, so resuming at epoch e only needs e. */
export interface MultiStepLr {
  readonly baseLearningRate: number;
  readonly milestones: readonly number[];
  readonly gamma: number;
  /** `base · gamma^(number of milestones <= epoch)` for a 0-based epoch. */
  learningRateAt(epoch: number): number;
}

/**
 * Multi-step decay per epoch. Example (teacher, MARS r50): milestones [100, 200] → 1e-4 for epochs 0–99,
 * 1e-5 for 100–199, 1e-6 from 200 (`vkd-method.md` §3.2).
 * @throws InvalidOptionError when milestones are not increasing non-negative integers or gamma/base are invalid.
 */
export function multiStepLr(options: MultiStepLrOptions): MultiStepLr {
  const baseLearningRate = options.baseLearningRate ?? 1e-4;
  const gamma = options.gamma ?? 0.1;
  const milestones = [...options.milestones];
  if (!(Number.isFinite(baseLearningRate) && baseLearningRate >= 0)) {
    throw new InvalidOptionError('multiStepLr.baseLearningRate', baseLearningRate, 'Use a finite number >= 0.');
  }
  if (!(Number.isFinite(gamma) && gamma > 0))
    throw new InvalidOptionError('multiStepLr.gamma', gamma, 'Use a finite number > 0.');
  milestones.forEach((milestone, index) => {
    const previous = index === 0 ? -1 : (milestones[index - 1] as number);
    if (!Number.isInteger(milestone) || milestone <= previous) {
      throw new InvalidOptionError(
        'multiStepLr.milestones',
        milestones,
        'Use strictly increasing integers >= 0 (0-based epochs).',
      );
    }
  });
  return {
    baseLearningRate,
    milestones,
    gamma,
    learningRateAt(epoch) {
      const passed = milestones.filter((milestone) => milestone <= epoch).length;
      // Repeated multiplication, as PyTorch's chainable MultiStepLR does (1e-4·0.1·0.1, not 1e-4·0.1²).
      let rate = baseLearningRate;
      for (let i = 0; i < passed; i++) rate *= gamma;
      return rate;
    },
  };
}

/**
 * Python's `range(first, epochs, step)`: the authors build milestones this way
 * (`--first_milestone`, `--num_epochs`, `--step_milestone`).
 * @throws InvalidOptionError for a step <= 0.
 */
export function milestoneRange(first: number, epochs: number, step: number): number[] {
  if (!(Number.isInteger(step) && step > 0))
    throw new InvalidOptionError('milestoneRange.step', step, 'Use an integer > 0.');
  const milestones: number[] = [];
  for (let epoch = first; epoch < epochs; epoch += step) milestones.push(epoch);
  return milestones;
}
