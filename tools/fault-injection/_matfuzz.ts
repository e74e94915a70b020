import { inflateSync } from 'node:zlib';
import { readMatFile, writeMatFile } from '../../packages/datasets/src/index';
import { createRandom } from '../../packages/core/src/index';
const base = writeMatFile([
  {
    name: 'track_test_info',
    rows: [
      [1, 2, 3, 4],
      [5, 6, 7, 8],
    ],
    storage: 'int32',
  },
]);
const inner = inflateSync(base.subarray(136));
const plain = new Uint8Array(128 + inner.length);
plain.set(base.subarray(0, 128));
plain.set(inner, 128);
const random = createRandom(1);
const counts: Record<string, number> = {};
const example: Record<string, string> = {};
for (let i = 0; i < 6000; i++) {
  const bytes = new Uint8Array(plain);
  let mutated: Uint8Array = bytes;
  if (i % 3 === 0) mutated = bytes.slice(0, 128 + random.integer(bytes.length - 128));
  else
    for (let k = 0; k < 1 + random.integer(3); k++)
      bytes[128 + random.integer(bytes.length - 128)] = random.integer(256);
  try {
    readMatFile(mutated, 'x.mat');
    counts.ok = (counts.ok ?? 0) + 1;
  } catch (error) {
    const name = (error as Error).name;
    counts[name] = (counts[name] ?? 0) + 1;
    example[name] ??= (error as Error).stack!.slice(0, 300);
  }
}
console.log(counts, example);
