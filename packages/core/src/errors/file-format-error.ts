import { VkdError } from './vkd-error';

/** A file exists but its content cannot be used; names the file, the 1-based line when known, and the reason. */
export class FileFormatError extends VkdError {
  readonly file: string;
  readonly line: number | undefined;
  readonly reason: string;

  constructor(file: string, reason: string, options: { line?: number; cause?: unknown } = {}) {
    super(`${file}${options.line === undefined ? '' : `:${options.line}`}: ${reason}`, options);
    this.name = 'FileFormatError';
    this.file = file;
    this.line = options.line;
    this.reason = reason;
  }
}
