import { packageConfig } from '../../tsup.base';

// LanceDB is a native addon: keep it (and its Arrow peer) external, loaded from node_modules at run time.
export default packageConfig({ index: 'src/index.ts' }, { external: ['@lancedb/lancedb', 'apache-arrow'] });
