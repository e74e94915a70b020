import { InvalidOptionError } from '@vkd/core';

/**
 * A required option has no value: it was not given as a flag, in the `--config` file or by the preset, or a flag was
 * given without its value. A usage error like any `InvalidOptionError` (the CLI exits with 2), but its message is the
 * reason alone (e.g. "--out is required: pass …") rather than "Invalid --out: undefined. …", since there is no value
 * to show.
 */
export class MissingOptionError extends InvalidOptionError {
  /**
   * @param option the flag, e.g. `--out`.
   * @param reason a complete sentence naming the flag and saying what to pass.
   */
  constructor(option: string, reason: string) {
    super(option, undefined, reason);
    this.name = 'MissingOptionError';
    this.message = reason;
  }
}
