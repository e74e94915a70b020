import { VkdError } from './vkd-error';

/** A tensor or array has the wrong rank or size. `where` names the argument, e.g. `batchHardTriplet.embeddings`. */
export class ShapeMismatchError extends VkdError {
  readonly where: string;
  readonly expected: string;
  readonly actual: string;

  constructor(where: string, expected: string, actual: string) {
    super(`${where} has shape ${actual}, expected ${expected}.`);
    this.name = 'ShapeMismatchError';
    this.where = where;
    this.expected = expected;
    this.actual = actual;
  }
}
