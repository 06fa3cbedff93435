/**
 * Child process for the concurrency test: releases `count` bundles into a store, as fast as it can.
 * argv: STORE_DIR NAME COUNT. Each bundle is distinct (its API is named NAME-i).
 */
import { COMPILER_VERSION } from '../../compiler/index.ts';
import { Store } from '../../compiler/store.ts';
import { apiFolder, compileFiles, mockApi } from './repo.ts';

const [dir, name, count] = process.argv.slice(2);
const store = new Store(dir);
for (let i = 0; i < Number(count); i++) {
  const bundle = compileFiles(apiFolder('shared', mockApi('shared', { description: `${name}-${i}` })));
  const result = await store.release(bundle, { tag: `${name}-${i}`, commit: 'c'.repeat(40), compilerVersion: COMPILER_VERSION }, () => []);
  if (result.problems.length || result.unchanged) process.exit(3);
}
