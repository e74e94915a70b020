import { VkdError } from './vkd-error';

/** A name looked up in a registry does not exist; the message lists the valid names. */
export class UnknownKeyError extends VkdError {
  readonly kind: string;
  readonly key: string;
  readonly available: readonly string[];

  constructor(kind: string, key: string, available: readonly string[]) {
    super(`Unknown ${kind} "${key}". Expected one of: ${available.map((name) => `"${name}"`).join(', ')}.`);
    this.name = 'UnknownKeyError';
    this.kind = kind;
    this.key = key;
    this.available = available;
  }
}
