// Bundles a benchmark entry point and the workspace packages it uses (`@vkd/*` from their TypeScript sources) into
// one ESM file. `@tensorflow/*` and `webgpu` stay external so exactly one tfjs engine is loaded:
// - mode 'workspace': externals are rewritten to absolute paths inside this checkout's node_modules (runs in place);
// - mode 'kit': externals keep their bare names, resolved from the kit's flat node_modules (gpu.md §2).
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const rootRequire = createRequire(join(ROOT, 'package.json'));
// esbuild is tsup's dependency (a root devDependency); pnpm does not hoist it.
const esbuild = rootRequire(createRequire(rootRequire.resolve('tsup')).resolve('esbuild'));
const backendsRequire = createRequire(join(ROOT, 'packages/backends/package.json'));

const EXTERNAL = /^(@tensorflow\/[a-z-]+|webgpu)(\/.*)?$/;

/** @param {{ entry: string, outfile: string, mode: 'workspace' | 'kit' }} options */
export async function bundle({ entry, outfile, mode }) {
  const plugin = {
    name: 'vkd-workspace',
    setup(build) {
      build.onResolve({ filter: /^@vkd\/[a-z-]+$/ }, (args) => {
        const name = args.path.slice('@vkd/'.length);
        const base = name === 'testing' ? 'tools/testing' : `packages/${name}`;
        return { path: join(ROOT, base, 'src/index.ts') };
      });
      build.onResolve({ filter: EXTERNAL }, (args) => {
        if (mode === 'kit') return { path: args.path, external: true };
        let path;
        try {
          path = backendsRequire.resolve(args.path);
        } catch {
          return { path: args.path, external: true }; // optional packages (tfjs-node) stay bare
        }
        return { path, external: true };
      });
    },
  };
  await esbuild.build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    plugins: [plugin],
    // Subpath exports of workspace packages (`@vkd/core/wasm`) resolve to their TypeScript sources too.
    conditions: ['@vkd/source'],
    logLevel: 'warning',
    // Some bundled CJS code calls require(); give ESM output a real one.
    banner: {
      js: "import { createRequire as __vkdCreateRequire } from 'node:module'; const require = __vkdCreateRequire(import.meta.url);",
    },
  });
  return outfile;
}
