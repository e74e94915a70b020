import { FileFormatError } from './file-format-error';
import { VkdError } from './vkd-error';

/** A dataset root or one of its required files is missing; `missing` lists the paths and `layout` the expected tree. */
export class DatasetNotFoundError extends VkdError {
  readonly root: string;
  readonly missing: readonly string[];

  constructor(root: string, missing: readonly string[], layout = '') {
    super(
      `Dataset files not found under ${root}: ${missing.join(', ')}.${layout ? ` Expected layout:\n${layout}` : ''}`,
    );
    this.name = 'DatasetNotFoundError';
    this.root = root;
    this.missing = missing;
  }
}

/** A dataset file (list, annotation, `.mat`, image) is malformed. */
export class DatasetFormatError extends FileFormatError {
  constructor(file: string, reason: string, options: { line?: number; cause?: unknown } = {}) {
    super(file, reason, options);
    this.name = 'DatasetFormatError';
  }
}
