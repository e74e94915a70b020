import { NodeOnlyError } from './errors/node-only-error';

type BuiltinGetter = (name: string) => unknown;

/**
 * Loads a Node built-in module (e.g. `node:fs/promises`) when a Node-only function runs. The name never appears in an
 * `import` a bundler could see, so packages that use this still bundle for browsers (where the call throws).
 * `process.getBuiltinModule` (Node >= 20.16) first, then a dynamic import for older Node 20 releases.
 * @param feature the function that needs it, named in the error.
 * @throws NodeOnlyError outside Node.
 */
export async function importNodeBuiltin<Module>(name: `node:${string}`, feature: string): Promise<Module> {
  const processObject = (globalThis as { process?: { getBuiltinModule?: BuiltinGetter; versions?: { node?: string } } })
    .process;
  const fromGetter = processObject?.getBuiltinModule?.(name);
  if (fromGetter !== undefined) return fromGetter as Module;
  if (typeof processObject?.versions?.node !== 'string') throw new NodeOnlyError(feature, name);
  try {
    // A computed specifier: bundlers leave it alone (and the comments tell webpack and Vite to do so).
    return (await import(/* webpackIgnore: true */ /* @vite-ignore */ name)) as Module;
  } catch (error) {
    throw new NodeOnlyError(feature, name, { cause: error });
  }
}
