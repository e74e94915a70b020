import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { findBackendFactory } from '@tensorflow/tfjs-core';
import { activate, failed, firstLine, importOptional } from './candidate';
import type { CandidateResult } from './candidate';

/** Packages that register the native `tensorflow` backend, best first. */
export const TENSORFLOW_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

const requireHere = createRequire(import.meta.url);

/**
 * Why a tfjs-node package cannot load, found without importing it: importing a package whose native addon is
 * missing throws *after* registering ~150 kernels (and warns about each again for the second package).
 * @returns a reason, or undefined when the package and its `tfjs_binding.node` are present.
 */
export function inspectTensorflowPackage(packageName: string, resolve: (id: string) => string = requireHere.resolve): string | undefined {
  let root: string;
  try {
    root = dirname(resolve(`${packageName}/package.json`));
  } catch {
    return 'not installed (optional dependency)';
  }
  const lib = join(root, 'lib');
  const built = existsSync(lib) && readdirSync(lib).some((dir) => existsSync(join(lib, dir, 'tfjs_binding.node')));
  return built ? undefined : 'native addon not built (install script skipped)';
}

/** Tries tfjs-node-gpu, then tfjs-node; each registers (and activates) the `tensorflow` backend when it loads. */
export async function tryTensorflow(): Promise<CandidateResult> {
  if (findBackendFactory('tensorflow') != null) return activate('tensorflow');
  const reasons: string[] = [];
  for (const packageName of TENSORFLOW_PACKAGES) {
    const short = packageName.replace('@tensorflow/', '');
    const problem = inspectTensorflowPackage(packageName);
    if (problem !== undefined) {
      reasons.push(`${short}: ${problem}`);
      continue;
    }
    try {
      await importOptional(packageName);
    } catch (error) {
      reasons.push(`${short}: failed to load (${firstLine(error)})`);
      continue;
    }
    const result = await activate('tensorflow');
    if (result.ok) return result;
    reasons.push(`${short}: ${result.reason}`);
  }
  return failed(reasons.join('; '));
}
