const marker = Symbol.for('@vkd/error');

/**
 * Base class of every error thrown by the `@vkd/*` packages. Subclasses carry structured fields so that
 * callers can react without parsing messages; `VkdError.isInstance(e)` works across duplicate installs.
 */
export class VkdError extends Error {
  // biome-ignore lint/correctness/noUnusedPrivateClassMembers: read through the Symbol.for key by isInstance
  private readonly [marker] = true;

  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'VkdError';
  }

  /** True for any `VkdError` (or subclass), even one created by another copy of this package. */
  static isInstance(error: unknown): error is VkdError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[marker] === true;
  }
}
