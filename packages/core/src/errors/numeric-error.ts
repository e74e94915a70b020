import { VkdError } from './vkd-error';

/** A value that must be finite is NaN or infinite (a diverged loss, a NaN feature). */
export class NonFiniteValueError extends VkdError {
  readonly where: string;

  constructor(where: string, detail: string) {
    super(`${where}: ${detail}`);
    this.name = 'NonFiniteValueError';
    this.where = where;
  }
}
