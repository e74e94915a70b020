import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { evaluateRanking } from '@vkd/metrics';
import { describe, expect, it } from 'vitest';
import { loadDataset } from '../src/index';
import type { ReidDataset } from '../src/index';
import { SMALL_MARS, temporaryFolder, writeImage, writeMarsTree } from './helpers';

/** Feeds a dataset's labels and evaluation protocol to @vkd/metrics with a distance function. */
function evaluate(dataset: ReidDataset, distance: (queryIndex: number, galleryIndex: number) => number) {
  const distances = new Float32Array(dataset.query.length * dataset.gallery.length);
  dataset.query.forEach((_, q) =>
    dataset.gallery.forEach((_, g) => (distances[q * dataset.gallery.length + g] = distance(q, g))),
  );
  return evaluateRanking({
    distances,
    queryIdentities: dataset.query.map((t) => t.identity),
    galleryIdentities: dataset.gallery.map((t) => t.identity),
    queryCameras: dataset.query.map((t) => t.camera),
    galleryCameras: dataset.gallery.map((t) => t.camera),
    excludeSameCamera: dataset.evaluation?.excludeSameCamera ?? true,
    ...(dataset.evaluation ? { junkGallery: (queryIndex: number) => dataset.evaluation?.junkGallery(queryIndex) } : {}),
  });
}

describe('datasets → @vkd/metrics evaluateRanking', () => {
  it("MARS 'official': every query has a match (its own tracklet is junk); 'torchreid' skips a query whose match is another query", async () => {
    const root = await temporaryFolder();
    await writeMarsTree(root, SMALL_MARS, { images: false });
    // distance 0 to itself would give a perfect but meaningless score unless same-camera junk removes it
    const official = await loadDataset('mars', { root });
    const result = evaluate(official, (q, g) => (official.query[q] === official.gallery[g] ? 0 : 1 + g));
    expect(result.validQueries).toBe(3);
    expect(result.skippedQueries).toEqual([]);
    const torchreid = await loadDataset('mars', { root, protocol: 'torchreid' });
    const reduced = evaluate(torchreid, (_, g) => 1 + g);
    // query 1 (pid 5, camera 2): its only other-camera match is query 0's tracklet, which 'torchreid' removes from
    // the gallery — the MARS "140 queries without ground truth" effect in miniature.
    expect(reduced.validQueries).toBe(2);
    expect(reduced.skippedQueries).toEqual([1]);
  });

  it('ATRW: near-duplicates are junk, the same tiger later in the same video is a positive', async () => {
    const root = await temporaryFolder();
    await Promise.all(['000001.jpg'].map((name) => writeImage(join(root, 'atrw_reid_train', 'train', name))));
    await mkdir(join(root, 'atrw_anno_reid_train'), { recursive: true });
    await writeFile(join(root, 'atrw_anno_reid_train', 'reid_list_train.csv'), '1,000001.jpg\n');
    const plain = [
      { imgid: 1, entityid: 5, frame: [1, 1, 10], query: 'sing' },
      { imgid: 2, entityid: 5, frame: [1, 1, 12], query: 'sing' }, // near-duplicate of 1
      { imgid: 3, entityid: 5, frame: [1, 1, 40], query: 'sing' }, // valid positive, same camera
      { imgid: 4, entityid: 6, frame: [2, 1, 10], query: 'sing' },
      { imgid: 5, entityid: 6, frame: [2, 1, 30], query: 'sing' },
    ];
    await Promise.all(
      plain.map((entry) =>
        writeImage(join(root, 'atrw_reid_test', 'test', `${String(entry.imgid).padStart(6, '0')}.jpg`)),
      ),
    );
    await mkdir(join(root, 'annotations'), { recursive: true });
    await writeFile(join(root, 'annotations', 'gt_test_plain.json'), JSON.stringify(plain));
    const dataset = await loadDataset('atrw', { root });
    // query 0 (imgid 1): itself d=0, near-duplicate d=0.1, a negative d=0.2, the true positive d=0.3
    const rows = [[0, 0.1, 0.3, 0.2, 0.9]];
    const distance = (q: number, g: number) => rows[q]?.[g] ?? (q === g ? 0 : 0.5 + 0.1 * g);
    const result = evaluate(dataset, distance);
    // first hits: q0 rank 2 (duplicate excluded, negative at 0.2 first), q1 1, q2 1, q3 4, q4 4
    expect(result.validQueries).toBe(5);
    expect(result.cmc[0]).toBeCloseTo(2 / 5, 6);
    expect(result.cmc[3]).toBeCloseTo(1, 6);
    expect(result.mAP).toBeCloseTo((0.5 + 1 + 1 + 0.25 + 0.25) / 5, 6);
    // without the exclusion each query finds itself at distance 0: a perfect, meaningless score
    const naive = evaluate(
      { ...dataset, evaluation: { excludeSameCamera: false, junkGallery: () => undefined } },
      distance,
    );
    expect(naive.cmc[0]).toBe(1);
  });
});
