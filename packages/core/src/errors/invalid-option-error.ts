import { VkdError } from './vkd-error';

/** An option or argument has a value that cannot be used; the message says which option and what is accepted. */
export class InvalidOptionError extends VkdError {
  readonly option: string;
  readonly value: unknown;
  readonly reason: string;

  constructor(option: string, value: unknown, reason: string, options: { cause?: unknown } = {}) {
    super(`Invalid ${option}: ${describeValue(value)}. ${reason}`, options);
    this.name = 'InvalidOptionError';
    this.option = option;
    this.value = value;
    this.reason = reason;
  }
}

/** Short, printable form of a value for error messages (never dumps a whole typed array). */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (ArrayBuffer.isView(value)) return `${value.constructor.name}(${(value as unknown as ArrayLike<unknown>).length})`;
  if (Array.isArray(value))
    return value.length > 8 ? `[${value.slice(0, 8).join(', ')}, … (${value.length})]` : `[${value.join(', ')}]`;
  return String(value);
}
