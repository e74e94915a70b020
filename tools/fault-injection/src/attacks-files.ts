import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { VkdError } from '../../../packages/core/src/index';
import { loadDataset } from '../../../packages/datasets/src/index';
import { readMatFile } from '../../../packages/datasets/src/mat-file';
import { writeMatFile } from '../../../packages/datasets/src/mat-file-writer';
import { readImage } from '../../../packages/datasets/src/node';
import { loadSharp } from '../../../packages/datasets/src/sharp-module';
import { writeNpy } from '../../../packages/metrics/src/npy';
import { parseSafetensors } from '../../../packages/models/src/index';
import { workFolder } from './attacks';
import type { AttackResult } from './harness';
import { refusedInProcess } from './in-process';

/**
 * A library call that must fail with a typed error (a VkdError) matching `expected`: another error class is a stack
 * trace for the user; no error is a silent wrong result.
 */
async function refusedByLibrary(attack: string, call: () => unknown, expected: RegExp): Promise<AttackResult> {
  try {
    await call();
    return { attack, outcome: 'silent wrong result', detail: 'accepted' };
  } catch (error) {
    const message = (error as Error).message ?? String(error);
    if (!(error instanceof VkdError))
      return { attack, outcome: 'unclear error or stack trace', detail: `${(error as Error).name}: ${message}` };
    return {
      attack,
      outcome: expected.test(message) ? 'clear typed error' : 'unclear error or stack trace',
      detail: `${error.name}: ${message.slice(0, 200)}`,
    };
  }
}

/** A library call that must succeed and give `expected` (what `check` returns, compared as JSON). */
async function handledByLibrary(
  attack: string,
  call: () => Promise<unknown>,
  expected: unknown,
): Promise<AttackResult> {
  try {
    const value = await call();
    return JSON.stringify(value) === JSON.stringify(expected)
      ? { attack, outcome: 'handled (correct result)', detail: `gave ${JSON.stringify(value)}` }
      : {
          attack,
          outcome: 'silent wrong result',
          detail: `gave ${JSON.stringify(value)}, expected ${JSON.stringify(expected)}`,
        };
  } catch (error) {
    const outcome = error instanceof VkdError ? 'clear typed error' : 'unclear error or stack trace';
    return { attack, outcome, detail: `refused a valid input: ${(error as Error).message.slice(0, 200)}` };
  }
}

async function jpeg(path: string, width = 8, height = 8): Promise<void> {
  const sharp = await loadSharp();
  await mkdir(dirname(path), { recursive: true });
  await sharp({ create: { width, height, channels: 3, background: { r: 90, g: 30, b: 200 } } })
    .jpeg()
    .toFile(path);
}

/** `vkd-metrics` on damaged and malformed inputs (in this process). */
export async function metricsInputs(): Promise<AttackResult[]> {
  const base = await workFolder('metrics');
  const file = (name: string) => join(base, name);
  const query = Float32Array.from({ length: 4 * 3 }, (_, index) => Math.sin(index));
  const gallery = Float32Array.from({ length: 6 * 3 }, (_, index) => Math.cos(index));
  await writeFile(file('q.npy'), writeNpy(query, [4, 3]));
  await writeFile(file('g.npy'), writeNpy(gallery, [6, 3]));
  await writeFile(file('q.csv'), 'pid,camid\n1,0\n2,0\n3,0\n4,0\n');
  await writeFile(file('g.csv'), 'pid,camid\n1,1\n2,1\n3,1\n4,1\n1,2\n2,2\n');
  const good = ['--query', file('q.npy'), '--gallery', file('g.npy'), '--query-labels', file('q.csv')];
  const withGallery = [...good, '--gallery-labels', file('g.csv')];
  const cases: Array<[string, string[], RegExp]> = [];
  for (const rank of ['1e15', '1e9', '0', '-1', 'abc'])
    cases.push([`vkd-metrics --max-rank ${rank}`, [...withGallery, '--max-rank', rank], /--max-rank/]);
  const labelFiles: Array<[string, string, RegExp]> = [
    ['first label value "12x" (once taken for a header)', '12x\n1\n1\n1\n', /ids\.txt:1: .*"12x" is not an integer/],
    ['first label value "1.5"', '1.5\n1\n1\n1\n', /ids\.txt:1: .*"1\.5" is not an integer/],
    ['first label value "NaN"', 'NaN\n1\n1\n1\n', /ids\.txt:1: .*"NaN" is not an integer/],
    ['malformed label on line 3', 'pid\n1\nx\n1\n1\n', /ids\.txt:3: .*"x" is not an integer/],
    ['blank label line', '1\n\n1\n1\n', /ids\.txt:2:/],
    ['label beyond int32', '9999999999\n1\n1\n1\n', /does not fit in int32/],
    ['too few labels', '1\n2\n', /ids|labels|expected|4/],
  ];
  for (const [index, [attack, text, expected]] of labelFiles.entries()) {
    const ids = file(`${index}-ids.txt`);
    await writeFile(ids, text);
    cases.push([
      `vkd-metrics: ${attack}`,
      [...good.slice(0, 4), '--query-ids', ids, '--query-cams', ids, '--gallery-labels', file('g.csv')],
      expected,
    ]);
  }
  const npy = writeNpy(query, [4, 3]);
  const damaged: Array<[string, Uint8Array, RegExp]> = [
    ['truncated .npy', npy.subarray(0, npy.length - 5), /q-bad\.npy/],
    [
      '.npy with a garbage header',
      Uint8Array.from([...new TextEncoder().encode('\x93NUMPY\x01\x00\x10\x00{garbage!!}    \n')]),
      /q-bad\.npy/,
    ],
    ['not an .npy file', new TextEncoder().encode('hello'), /q-bad\.npy/],
    ['.npy of 3 dimensions', writeNpy(new Float32Array(8), [2, 2, 2]), /2-D/],
    ['.npy of integers as features', writeNpy(new Int32Array(12), [4, 3]), /float32 or float64/],
    [
      '.npy holding NaN',
      writeNpy(
        Float32Array.from(query, (value, index) => (index === 5 ? Number.NaN : value)),
        [4, 3],
      ),
      /NaN/,
    ],
  ];
  for (const [index, [attack, bytes, expected]] of damaged.entries()) {
    const bad = file(`${index}-q-bad.npy`);
    await writeFile(bad, bytes);
    cases.push([`vkd-metrics: ${attack}`, ['--query', bad, ...withGallery.slice(2)], expected]);
  }
  await writeFile(file('no-header.csv'), '1,0\n2,0\n3,0\n4,0\n');
  await writeFile(file('columns.csv'), 'pid,camid\n1,0\n2\n3,0\n4,0\n');
  await mkdir(file('a-directory.npy'));
  cases.push(
    [
      'vkd-metrics: label table without a header',
      [...withGallery.slice(0, 4), '--query-labels', file('no-header.csv'), ...withGallery.slice(6)],
      /header must name/,
    ],
    [
      'vkd-metrics: label table row with a missing column',
      [...withGallery.slice(0, 4), '--query-labels', file('columns.csv'), ...withGallery.slice(6)],
      /columns\.csv:3: --query-labels: expected 2 comma-separated cells/,
    ],
    ['vkd-metrics: gallery shape against labels', [...good, '--gallery-labels', file('q.csv')], /expected \[G=4, D\]/],
    ['vkd-metrics: --metric l1', [...withGallery, '--metric', 'l1'], /--metric/],
    ['vkd-metrics: --rerank --k1 -1', [...withGallery, '--rerank', '--k1', '-1'], /--k1/],
    ['vkd-metrics: --rerank --lambda 2', [...withGallery, '--rerank', '--lambda', '2'], /--lambda/],
    [
      'vkd-metrics: missing --query file',
      ['--query', file('none.npy'), ...withGallery.slice(2)],
      /none\.npy: no such file/,
    ],
    [
      'vkd-metrics: --query is a directory',
      ['--query', file('a-directory.npy'), ...withGallery.slice(2)],
      /is a directory/,
    ],
    ['vkd-metrics: unknown flag', [...withGallery, '--bogus'], /bogus/],
  );
  const results: AttackResult[] = [];
  for (const [attack, args, expected] of cases)
    results.push(await refusedInProcess(attack, args, expected, { metrics: true }));
  return results;
}

/** Damaged images, MAT files and safetensors headers through the readers, and loader layouts (in this process). */
export async function damagedFilesAndLayouts(): Promise<AttackResult[]> {
  const base = await workFolder('files');
  const results: AttackResult[] = [];
  // Images.
  const good = join(base, 'good.jpg');
  await jpeg(good, 32, 64);
  const bytes = await readFile(good);
  const images: Array<[string, Uint8Array, RegExp]> = [
    ['truncated JPEG', bytes.subarray(0, Math.floor(bytes.length * 0.6)), /corrupt or truncated/],
    ['JPEG of garbage', new TextEncoder().encode('hello'), /corrupt or truncated/],
    ['zero-byte JPEG', new Uint8Array(0), /cannot decode image/],
    [
      'JPEG with its middle overwritten',
      Uint8Array.from(bytes, (value, index) => (index > 200 && index < 260 ? 0xff : value)),
      /corrupt or truncated|cannot decode/,
    ],
  ];
  for (const [attack, content, expected] of images) {
    const path = join(base, `${attack.replace(/\W+/g, '-')}.jpg`);
    await writeFile(path, content);
    results.push(
      await refusedByLibrary(`readImage: ${attack}`, () => readImage(path, { height: 8, width: 4 }), expected),
    );
  }
  const huge = Buffer.from(bytes);
  for (let at = 0; at < huge.length - 9; at++) {
    if (huge[at] === 0xff && (huge[at + 1] === 0xc0 || huge[at + 1] === 0xc2)) {
      huge.writeUInt16BE(20_000, at + 5);
      huge.writeUInt16BE(20_000, at + 7);
      break;
    }
  }
  await writeFile(join(base, 'huge.jpg'), huge);
  results.push(
    await refusedByLibrary(
      'readImage: a 20000×20000 JPEG (over the pixel limit)',
      () => readImage(join(base, 'huge.jpg'), { height: 8, width: 4 }),
      /limitInputPixels .*not corrupt: downscale/,
    ),
  );
  // MAT files.
  const mat = writeMatFile([{ name: 'track_test_info', rows: [[1, 2, 3, 4]], storage: 'int32' }]);
  const mats: Array<[string, Uint8Array]> = [
    ['empty', new Uint8Array(0)],
    ['an element under 8 bytes', mat.subarray(0, 131)],
    ['a header that is not MATLAB 5', Uint8Array.from(mat, (value, index) => (index < 4 ? 0 : value))],
  ];
  results.push(
    await handledByLibrary(
      'readMatFile: header only (128 bytes), no variables',
      async () => [...readMatFile(mat.subarray(0, 128), 'x.mat').keys()],
      [],
    ),
  );
  for (const [attack, content] of mats)
    results.push(await refusedByLibrary(`readMatFile: ${attack}`, () => readMatFile(content, 'x.mat'), /x\.mat/));
  // safetensors headers.
  const header = (json: string, data = 8) => {
    const text = new TextEncoder().encode(json);
    const out = new Uint8Array(8 + text.length + data);
    new DataView(out.buffer).setUint32(0, text.length, true);
    out.set(text, 8);
    return out;
  };
  const entry = (offsets: string) => `{"dtype":"F32","shape":[1],"data_offsets":${offsets}}`;
  const tensors: Array<[string, Uint8Array, RegExp]> = [
    ['duplicate tensor name', header(`{"a":${entry('[0,4]')},"a":${entry('[4,8]')}}`), /duplicate key "a"/],
    [
      'duplicate dtype key',
      header('{"a":{"dtype":"F32","dtype":"F16","shape":[1],"data_offsets":[0,4]}}'),
      /duplicate key "dtype" in a/,
    ],
    ['header length beyond the file', Uint8Array.from([255, 255, 0, 0, 0, 0, 0, 0, 123]), /does not fit/],
    ['header that is not JSON', header('{not json'), /not valid UTF-8 JSON/],
    ['offsets beyond the data', header(`{"a":${entry('[0,400]')}}`), /offset|beyond|bytes|data/],
    [
      'shape and offsets disagree',
      header(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,4]}}`),
      /shape|bytes|offset/,
    ],
  ];
  for (const [attack, content, expected] of tensors)
    results.push(
      await refusedByLibrary(`parseSafetensors: ${attack}`, () => parseSafetensors(content, 'w.safetensors'), expected),
    );
  // Loader layouts.
  const folderRoot = join(base, 'folder');
  for (const identity of ['1', '2', '3', '03']) await jpeg(join(folderRoot, identity, 'cam1', 'a.jpg'));
  results.push(
    await refusedByLibrary(
      'folder loader: identities "3" and "03"',
      () => loadDataset('folder', { root: folderRoot }),
      /"03" and "3" both mean identity 3/,
    ),
  );
  const splits = join(base, 'splits');
  for (const split of ['train', 'query']) await jpeg(join(splits, split, '1', 'cam1', 'a.jpg'));
  results.push(
    await refusedByLibrary(
      'folder loader: train/ + query/ without gallery/',
      () => loadDataset('folder', { root: splits }),
      /no gallery\//,
    ),
  );
  const duke = join(base, 'duke');
  for (const split of ['train', 'query', 'gallery'])
    await jpeg(join(duke, split, '0005', '0001', '0005_C2_F0001_X1000.jpg'));
  await jpeg(join(duke, 'train', '0005', '0005_C2_F0002_X1012.jpg'));
  results.push(
    await refusedByLibrary(
      'Duke loader: frames directly in <pid>/',
      () => loadDataset('duke-video', { root: duke }),
      /must sit in a tracklet folder/,
    ),
  );
  // The same tree as real files and through links (a linked frame, a linked camera folder): the same set.
  const plain = join(base, 'plain');
  const linked = join(base, 'linked');
  for (const identity of ['1', '2']) {
    await jpeg(join(base, 'store', identity, 'a.jpg'));
    for (const camera of ['cam1', 'cam2']) await jpeg(join(plain, identity, camera, 'a.jpg'));
    await mkdir(join(linked, identity, 'cam1'), { recursive: true });
    await symlink(join(base, 'store', identity, 'a.jpg'), join(linked, identity, 'cam1', 'a.jpg'));
    await symlink(join(base, 'store', identity), join(linked, identity, 'cam2'));
  }
  const summary = async (root: string) => {
    const dataset = await loadDataset('folder', { root });
    return [dataset.train, dataset.query, dataset.gallery].map((split) =>
      split.map((tracklet) => [tracklet.identity, tracklet.camera, tracklet.frames.length]),
    );
  };
  results.push(
    await handledByLibrary(
      'folder loader: a linked frame and a linked camera folder',
      () => summary(linked),
      await summary(plain),
    ),
  );
  await symlink(join(base, 'store', 'nowhere.jpg'), join(linked, '1', 'cam1', 'b.jpg'));
  results.push(
    await refusedByLibrary(
      'folder loader: a broken link',
      () => loadDataset('folder', { root: linked }),
      /broken symbolic link/,
    ),
  );
  return results;
}
