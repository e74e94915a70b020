import { VkdError } from './vkd-error';

/** A Node-only function (one that reads or writes files) was called where Node's built-in modules are missing. */
export class NodeOnlyError extends VkdError {
  constructor(
    /** The function called, e.g. `saveReidModel`. */
    readonly feature: string,
    /** The built-in it needs, e.g. `node:fs/promises`. */
    readonly builtin: string,
    options: { cause?: unknown } = {},
  ) {
    super(
      `${feature} needs Node.js (${builtin}), which this environment does not have. In a browser, use the functions ` +
        'that take bytes or an IOHandler instead of a path.',
      options,
    );
    this.name = 'NodeOnlyError';
  }
}
