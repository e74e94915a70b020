import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { findBackendFactory, version_core } from '@tensorflow/tfjs-core';
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
export function inspectTensorflowPackage(
  packageName: string,
  resolve: (id: string) => string = requireHere.resolve,
): string | undefined {
  let root: string;
  try {
    root = dirname(resolve(`${packageName}/package.json`));
  } catch {
    return 'not installed (optional peer dependency)';
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

/**
 * What to do when `device: 'tensorflow'` cannot load: tfjs-node(-gpu) are optional peer dependencies (so nobody
 * downloads libtensorflow unasked); install the one you want at the tfjs-core version in use, and let its install
 * script run (pnpm 10 runs no build script it was not told to).
 */
export function tensorflowInstallAdvice(version: string = version_core): string {
  return [
    'To use native TensorFlow, install ONE of (same version as @tensorflow/tfjs-core):',
    `  CPU:          npm install @tensorflow/tfjs-node@${version}        (pnpm add @tensorflow/tfjs-node@${version})`,
    `  NVIDIA CUDA:  npm install @tensorflow/tfjs-node-gpu@${version}    (pnpm add @tensorflow/tfjs-node-gpu@${version}; needs CUDA 11.2 + cuDNN 8.1)`,
    'Its install script downloads libtensorflow. pnpm skips it unless allowed: run `pnpm approve-builds` and select it, or list it',
    'under `onlyBuiltDependencies` (pnpm-workspace.yaml or package.json "pnpm"), then `pnpm rebuild @tensorflow/tfjs-node` (or -gpu).',
    'With npm: if the script failed or was skipped (--ignore-scripts), `npm rebuild @tensorflow/tfjs-node`.',
  ].join('\n');
}
