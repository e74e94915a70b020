import { packageConfig } from '../../tsup.base';

// frame-worker: the entry of the loader's worker threads, emitted beside node.js (see frame-worker-pool.ts);
// shims: import.meta.url in the CommonJS build (the worker and the WebAssembly decoder are found relative to it).
export default packageConfig(
  { index: 'src/index.ts', node: 'src/node.ts', 'frame-worker': 'src/pipeline/frame-worker.ts' },
  { shims: true },
);
