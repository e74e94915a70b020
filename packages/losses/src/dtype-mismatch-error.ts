import { VkdError } from '@vkd/core';

/**
 * A tensor has the wrong dtype, e.g. float32 labels where int32 identities are expected.
 * `where` names the argument (`batchHardTriplet.labels`); `expected` and `actual` are dtype names.
 */
export class DtypeMismatchError extends VkdError {
  readonly where: string;
  readonly expected: string;
  readonly actual: string;

  constructor(where: string, expected: string, actual: string) {
    super(`${where} has dtype ${actual}, expected ${expected}. Convert it first, e.g. tf.cast(x, '${expected}').`);
    this.name = 'DtypeMismatchError';
    this.where = where;
    this.expected = expected;
    this.actual = actual;
  }
}
