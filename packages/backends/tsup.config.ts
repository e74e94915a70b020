import { packageConfig } from '../../tsup.base';

// shims: `import.meta.url` (used to resolve the optional tfjs-node packages) also works in the CJS build.
export default packageConfig(undefined, { shims: true });
