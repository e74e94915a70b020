#!/usr/bin/env node
// Layering check, run by .ci/run (no build needed: it bundles the sources through the `@vkd/source` condition).
// 1. The root entries of the libraries meant for browsers bundle with esbuild for the browser platform with no Node
//    built-in anywhere in their module graph (`node:fs`, `fs`, `worker_threads`, ...), tfjs-core left external.
// 2. @vkd/trainer's root entry (a Node library) never imports sharp or reaches @vkd/datasets/node: image decoding is
//    injected (`loader`, `batches`). The one dynamic `import('sharp')` of @vkd/datasets' root (its synthetic-set
//    generator, loaded on first call only) is allowed: loading @vkd/trainer never loads sharp.
// Prints one line per entry and exits 1 with every offending import (and the file importing it) when a rule breaks.
import { builtinModules } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const builtins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));
const isBuiltin = (specifier) =>
  specifier.startsWith('node:') || builtins.has(specifier) || builtins.has(specifier.split('/')[0]);

/** Entries that must bundle for browsers. */
const BROWSER_ENTRIES = ['@vkd/metrics', '@vkd/losses', '@vkd/models'];
/** Node entries and the modules they must never reach (by specifier, or by a path inside the repository). */
const NODE_ENTRIES = [
  {
    entry: '@vkd/trainer',
    forbidden: ['sharp', '@vkd/datasets/node', 'packages/datasets/src/node.ts', 'packages/datasets/src/pipeline/'],
  },
];
/** Peer dependencies the user's bundle provides. */
const EXTERNAL = ['@tensorflow/tfjs-core', '@tensorflow/tfjs-layers'];

/** Records every import esbuild resolves, with its importer, and marks Node built-ins external so the build goes on. */
function recorder(imports) {
  return {
    name: 'record-imports',
    setup(builder) {
      builder.onResolve({ filter: /.*/ }, (args) => {
        if (args.kind === 'entry-point') return undefined;
        imports.push({ specifier: args.path, importer: path.relative(root, args.importer), kind: args.kind });
        return isBuiltin(args.path) ? { path: args.path, external: true } : undefined;
      });
    },
  };
}

async function bundle(entry, platform, imports) {
  // `@vkd/x` is bundled from packages/x (whose node_modules link its workspace dependencies).
  const directory = path.join(root, 'packages', entry.replace('@vkd/', ''));
  const result = await build({
    stdin: { contents: `export * from '${entry}';`, resolveDir: directory, loader: 'ts' },
    bundle: true,
    write: false,
    metafile: true,
    platform,
    format: 'esm',
    target: 'es2022',
    conditions: ['@vkd/source'],
    external: EXTERNAL,
    logLevel: 'silent',
    plugins: [recorder(imports)],
  });
  return {
    bytes: result.outputFiles.reduce((sum, file) => sum + file.contents.length, 0),
    inputs: Object.keys(result.metafile.inputs),
  };
}

const failures = [];
for (const entry of BROWSER_ENTRIES) {
  const imports = [];
  try {
    const { bytes, inputs } = await bundle(entry, 'browser', imports);
    const offending = imports.filter((record) => isBuiltin(record.specifier));
    for (const record of offending)
      failures.push(
        `${entry} (browser): ${record.importer} imports the Node built-in "${record.specifier}" (${record.kind})`,
      );
    console.log(
      `${offending.length === 0 ? 'ok  ' : 'FAIL'} ${entry}: browser bundle ${(bytes / 1024).toFixed(0)} KiB from ${inputs.length} modules`,
    );
  } catch (error) {
    failures.push(`${entry} (browser): esbuild failed: ${error.message}`);
    console.log(`FAIL ${entry}: browser bundle did not build`);
  }
}
for (const { entry, forbidden } of NODE_ENTRIES) {
  const imports = [];
  try {
    const { inputs } = await bundle(entry, 'node', imports);
    const reached = [
      ...imports
        .filter((record) => forbidden.includes(record.specifier) && record.kind !== 'dynamic-import')
        .map((record) => `${record.importer} imports "${record.specifier}" (${record.kind})`),
      ...inputs
        .filter((input) => forbidden.some((part) => part.includes('/') && input.includes(part)))
        .map((input) => `its module graph contains ${input}`),
    ];
    for (const line of reached) failures.push(`${entry} (node): ${line}`);
    const verdict =
      reached.length === 0 ? `ok   ${entry}: node bundle of ${inputs.length} modules` : `FAIL ${entry}: node bundle`;
    console.log(`${verdict} reaches ${reached.length === 0 ? 'none' : 'some'} of ${forbidden.join(', ')} (statically)`);
  } catch (error) {
    failures.push(`${entry} (node): esbuild failed: ${error.message}`);
    console.log(`FAIL ${entry}: node bundle did not build`);
  }
}
if (failures.length > 0) {
  console.error(`\nLayering check failed:\n${failures.map((line) => `  - ${line}`).join('\n')}`);
  console.error(
    'Browser entries must not import Node built-ins (move Node-only code to a subpath such as /node or /cli, or load',
  );
  console.error(
    'it at call time with importNodeBuiltin from @vkd/core); @vkd/trainer takes its image loader as an option.',
  );
  process.exit(1);
}
