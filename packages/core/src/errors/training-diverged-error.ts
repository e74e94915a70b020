import { VkdError } from './vkd-error';

/**
 * Training diverged without a NaN: the loss stayed far above its running level, or the weights grew past a bound.
 * `where` names the epoch and step, `lastGoodCheckpoint` the newest checkpoint written before it (if any).
 */
export class TrainingDivergedError extends VkdError {
  readonly where: string;
  readonly lastGoodCheckpoint: string | undefined;

  constructor(where: string, detail: string, lastGoodCheckpoint?: string) {
    super(`${where}: ${detail}`);
    this.name = 'TrainingDivergedError';
    this.where = where;
    this.lastGoodCheckpoint = lastGoodCheckpoint;
  }
}
