import { VkdError } from './vkd-error';

/** One attempted compute backend and why it could not be used. */
export interface BackendAttempt {
  readonly backend: string;
  readonly reason: string;
}

/** No requested compute backend could be initialised; `tried` says why each candidate failed. */
export class UnsupportedBackendError extends VkdError {
  readonly requested: string;
  readonly tried: readonly BackendAttempt[];

  /** @param advice what to install or enable, appended to the message (e.g. for `--device tensorflow`). */
  constructor(requested: string, tried: readonly BackendAttempt[], advice?: string) {
    super(
      `No usable backend for device "${requested}". Tried:\n${tried.map((t) => `  - ${t.backend}: ${t.reason}`).join('\n')}${advice ? `\n${advice}` : ''}`,
    );
    this.name = 'UnsupportedBackendError';
    this.requested = requested;
    this.tried = tried;
  }
}
