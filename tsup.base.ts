import { defineConfig, type Options } from 'tsup';

/**
 * The one tsup configuration every published package uses: ESM + CJS + d.ts for Node 20.
 * @param entry entry points relative to the package, e.g. `{ index: 'src/index.ts', node: 'src/node.ts' }`.
 */
export function packageConfig(entry: Options['entry'] = { index: 'src/index.ts' }, extra: Options = {}) {
  return defineConfig({
    entry,
    format: ['esm', 'cjs'],
    dts: true,
    clean: true,
    sourcemap: true,
    target: 'node20',
    splitting: false,
    ...extra,
  });
}
