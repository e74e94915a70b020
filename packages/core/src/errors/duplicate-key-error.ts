import { VkdError } from './vkd-error';

/** A registration would overwrite an existing entry of a registry. */
export class DuplicateKeyError extends VkdError {
  readonly kind: string;
  readonly key: string;

  constructor(kind: string, key: string) {
    super(`A ${kind} named "${key}" is already registered. Choose another name.`);
    this.name = 'DuplicateKeyError';
    this.kind = kind;
    this.key = key;
  }
}
