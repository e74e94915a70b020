import { packageConfig } from '../../tsup.base';

export default packageConfig({ index: 'src/index.ts', wasm: 'src/wasm.ts', node: 'src/node.ts' });
