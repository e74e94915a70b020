import { findBackendFactory, setBackend } from '@tensorflow/tfjs-core';

/** Outcome of trying one backend: it is now active, or why not (a human-readable reason). */
export type CandidateResult =
  | { readonly ok: true; readonly adapter?: AdapterDescription }
  | { readonly ok: false; readonly reason: string };

/** The WebGPU adapter in use, as Dawn describes it (e.g. vendor 'nvidia', device 'nvidia-h100-80gb-hbm3'). */
export interface AdapterDescription {
  readonly vendor: string;
  readonly architecture: string;
  readonly device: string;
  readonly description: string;
}

/** The failure of a candidate, with a reason a user can act on. */
export function failed(reason: string): CandidateResult {
  return { ok: false, reason };
}

/** First line of an error's message, for reasons (stack traces and install hints are not reasons). */
export function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return (message.split('\n')[0] ?? '').trim();
}

/**
 * Activates a backend that has been registered, trusting `tf.setBackend`'s boolean (stack-notes §6:
 * `tf.getBackend()` may name a backend whose initialisation failed).
 */
export async function activate(name: string): Promise<CandidateResult> {
  if (findBackendFactory(name) == null)
    return failed(`backend '${name}' is not registered after importing its package`);
  try {
    if (await setBackend(name)) return { ok: true };
    return failed(`tf.setBackend('${name}') returned false (initialisation failed)`);
  } catch (error) {
    return failed(`tf.setBackend('${name}') threw: ${firstLine(error)}`);
  }
}

/**
 * `import()` of a package whose name is only known at run time, so that bundlers leave optional packages
 * (tfjs-node, Dawn) alone instead of failing the build when they are absent.
 */
export function importOptional(specifier: string): Promise<unknown> {
  return import(/* @vite-ignore */ specifier);
}
