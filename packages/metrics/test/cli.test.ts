import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRandom } from '@vkd/core';
import { evaluateFeatures, writeNpy } from '@vkd/metrics';
import { runMetricsCli } from '@vkd/metrics/cli';
import { afterAll, describe, expect, it } from 'vitest';

const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'vkd-metrics-cli-'));
afterAll(() => fs.rmSync(folder, { recursive: true, force: true }));
const file = (name: string) => path.join(folder, name);

const random = createRandom(5);
const D = 6;
const Q = 8;
const G = 20;
const queryIds = Int32Array.from({ length: Q }, (_, i) => i % 4);
const galleryIds = Int32Array.from({ length: G }, (_, i) => i % 5);
const queryCams = Int32Array.from({ length: Q }, () => 0);
const galleryCams = Int32Array.from({ length: G }, (_, i) => 1 + (i % 2));
const query = Float32Array.from({ length: Q * D }, (_, k) =>
  (queryIds[Math.floor(k / D)] as number) === k % D ? 3 : random.normal(),
);
const gallery = Float32Array.from({ length: G * D }, (_, k) =>
  (galleryIds[Math.floor(k / D)] as number) === k % D ? 3 : random.normal(),
);
fs.writeFileSync(file('q.npy'), writeNpy(query, [Q, D]));
fs.writeFileSync(file('g.npy'), writeNpy(gallery, [G, D]));
fs.writeFileSync(file('q_ids.npy'), writeNpy(queryIds));
fs.writeFileSync(file('q_cams.txt'), `camera\n${Array.from(queryCams).join('\n')}\n`);
fs.writeFileSync(file('g_ids.npy'), writeNpy(galleryIds));
fs.writeFileSync(file('g_cams.npy'), writeNpy(galleryCams));
fs.writeFileSync(
  file('g.csv'),
  `name,pid,camid\r\n${Array.from(galleryIds, (id, i) => `img${i}.jpg,${id},${galleryCams[i]}`).join('\r\n')}\r\n`,
);

function run(args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = runMetricsCli(args, { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text) });
  return { code, stdout, stderr };
}

const base = [
  '--query',
  file('q.npy'),
  '--gallery',
  file('g.npy'),
  '--query-ids',
  file('q_ids.npy'),
  '--query-cams',
  file('q_cams.txt'),
];

describe('vkd-metrics CLI', () => {
  it('prints the same numbers as evaluateFeatures, as a table and as JSON', () => {
    const expected = evaluateFeatures({
      queryFeatures: query,
      galleryFeatures: gallery,
      dim: D,
      queryIdentities: queryIds,
      galleryIdentities: galleryIds,
      queryCameras: queryCams,
      galleryCameras: galleryCams,
    });
    const table = run([...base, '--gallery-labels', file('g.csv')]);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain('Rank-1');
    expect(table.stdout).toContain(`${(expected.mAP * 100).toFixed(2)}%`);
    const json = run([...base, '--gallery-ids', file('g_ids.npy'), '--gallery-cams', file('g_cams.npy'), '--json']);
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout);
    expect(parsed.mAP).toBe(expected.mAP);
    expect(parsed.rank1).toBe(expected.cmc[0]);
    expect(parsed.validQueries).toBe(Q);
  });

  it('runs with precomputed distances and with re-ranking', () => {
    const distances = new Float32Array(Q * G).map(() => random.next());
    fs.writeFileSync(file('d.npy'), writeNpy(distances, [Q, G]));
    const labelArgs = [
      '--query-ids',
      file('q_ids.npy'),
      '--query-cams',
      file('q_cams.txt'),
      '--gallery-labels',
      file('g.csv'),
    ];
    expect(run(['--distances', file('d.npy'), ...labelArgs, '--json']).code).toBe(0);
    expect(run([...base, '--gallery-labels', file('g.csv'), '--rerank', '--k1', '5', '--k2', '2']).code).toBe(0);
  });

  it('explains bad input and exits non-zero', () => {
    fs.writeFileSync(file('short.csv'), 'pid,camid\n1,2\n');
    const mismatch = run([...base, '--gallery-labels', file('short.csv')]);
    expect(mismatch.code).toBe(1);
    expect(mismatch.stderr).toMatch(/--gallery .*g\.npy.* has shape \[20, 6\], expected \[G=1, D\]/);
    const missing = run([
      ...base.slice(0, 2),
      '--gallery',
      file('nope.npy'),
      '--gallery-labels',
      file('g.csv'),
      '--query-labels',
      file('g.csv'),
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/nope\.npy/);
    fs.writeFileSync(file('bad.csv'), 'pid,camid\n1,2\nx,3\n');
    const malformed = run([...base, '--gallery-labels', file('bad.csv')]);
    expect(malformed.stderr).toMatch(/bad\.csv:3: --gallery-labels: "x" is not an integer/);
    // A malformed first value is an error at line 1, not taken for a header (which must be a column name).
    for (const first of ['12x', '1.5', '-', 'NaN', '0x1']) {
      fs.writeFileSync(file('cams-bad.txt'), `${first}\n${Array.from(queryCams.slice(1)).join('\n')}\n`);
      const firstBad = run([
        ...base.slice(0, 6),
        '--query-cams',
        file('cams-bad.txt'),
        '--gallery-labels',
        file('g.csv'),
      ]);
      expect(firstBad.code, first).toBe(1);
      expect(firstBad.stderr, first).toContain(`cams-bad.txt:1: --query-cams: "${first}" is not an integer.`);
    }
    // A header with two identity (or camera) columns is ambiguous: an error naming both, never the first taken silently
    // (`id,pid,camid` with a row index in `id` would rank by the wrong labels).
    fs.writeFileSync(
      file('g-two-ids.csv'),
      `id,pid,camid\n${Array.from(galleryIds, (id, i) => `${i},${id},${galleryCams[i]}`).join('\n')}\n`,
    );
    const twoIds = run([...base, '--gallery-labels', file('g-two-ids.csv')]);
    expect(twoIds.code).toBe(1);
    expect(twoIds.stderr).toContain(
      'g-two-ids.csv:1: --gallery-labels: the header names 2 identity columns ("id", "pid"); keep one of identity|pid|id and rename or remove the others.',
    );
    fs.writeFileSync(file('g-two-cams.csv'), 'pid,cam,camid\n1,0,2\n');
    expect(run([...base, '--gallery-labels', file('g-two-cams.csv')]).stderr).toContain(
      'g-two-cams.csv:1: --gallery-labels: the header names 2 camera columns ("cam", "camid")',
    );
    // A row with the wrong number of cells names the option and says that quoted commas are not read.
    fs.writeFileSync(file('g-quoted.csv'), 'name,pid,camid\n"a,b.jpg",1,2\n');
    expect(run([...base, '--gallery-labels', file('g-quoted.csv')]).stderr).toContain(
      'g-quoted.csv:2: --gallery-labels: expected 3 comma-separated cells as in the header, found 4 (quoted fields are not supported: a comma always separates cells).',
    );
    fs.writeFileSync(file('cams-named.txt'), `cam id\n${Array.from(queryCams).join('\n')}\n`);
    expect(
      run([...base.slice(0, 6), '--query-cams', file('cams-named.txt'), '--gallery-labels', file('g.csv')]).code,
    ).toBe(0);
    const nan = new Float32Array(query);
    nan[7] = Number.NaN;
    fs.writeFileSync(file('nan.npy'), writeNpy(nan, [Q, D]));
    const withNaN = run(['--query', file('nan.npy'), ...base.slice(2), '--gallery-labels', file('g.csv')]);
    expect(withNaN.stderr).toMatch(/row 1, column 1 is NaN/);
    fs.writeFileSync(file('ids-float.npy'), writeNpy(new Float32Array(Q)));
    const floatIds = run([
      ...base.slice(0, 4),
      '--query-ids',
      file('ids-float.npy'),
      '--query-cams',
      file('q_cams.txt'),
      '--gallery-labels',
      file('g.csv'),
    ]);
    expect(floatIds.stderr).toMatch(/must have an integer dtype, found '<f4'/);
    expect(run(['--bogus']).code).toBe(2);
    const metric = run([...base, '--gallery-labels', file('g.csv'), '--metric', 'l1']);
    expect(metric.stderr).toMatch(/Invalid --metric: "l1"/);
    expect(metric.code).toBe(2);
    expect(run(['--help']).stdout).toContain('Usage:');
  });

  it('names a missing or directory input file plainly, without a stack trace', () => {
    const missing = run([
      ...base.slice(0, 2),
      '--gallery',
      file('nope.npy'),
      ...base.slice(4),
      '--gallery-labels',
      file('g.csv'),
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(`vkd-metrics: ${file('nope.npy')}: no such file (the file given to --gallery).\n`);
    const directory = run([
      ...base.slice(0, 2),
      '--gallery',
      folder,
      ...base.slice(4),
      '--gallery-labels',
      file('g.csv'),
    ]);
    expect(directory.code).toBe(1);
    expect(directory.stderr).toBe(`vkd-metrics: ${folder}: is a directory; --gallery takes a file.\n`);
  });

  it('prints the usage for no arguments and checks re-ranking options even without --rerank', () => {
    const empty = run([]);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('Usage:');
    const k1 = run([...base, '--gallery-labels', file('g.csv'), '--k1', 'abc']);
    expect(k1.code).toBe(2);
    expect(k1.stderr).toMatch(/Invalid --k1: "abc"/);
    const lambda = run([...base, '--gallery-labels', file('g.csv'), '--lambda', '2']);
    expect(lambda.code).toBe(2);
    expect(lambda.stderr).toMatch(/Invalid --lambda: "2". Use a number in \[0, 1\]/);
  });
});
