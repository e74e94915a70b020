import { createRequire } from 'node:module';
import type * as Arrow from 'apache-arrow';

let arrow: typeof Arrow | undefined;

/**
 * Apache Arrow as LanceDB sees it. LanceDB is a CommonJS package, so it uses Arrow's CommonJS build; the classes of
 * Arrow's ES-module build (what `import` gives) are different objects that it does not recognise ("Unrecognized
 * type 'NONE'"). Requiring the package from here returns the very copy LanceDB has loaded.
 */
export function loadArrow(): typeof Arrow {
  arrow ??= createRequire(import.meta.url)('apache-arrow') as typeof Arrow;
  return arrow;
}
