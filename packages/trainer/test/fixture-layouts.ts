import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ReidDataset, Tracklet } from '@vkd/datasets';

/**
 * Builds a tiny VeRi-776 tree from the frames of a loaded synthetic set: test tracklets become tracks of
 * `test_track.txt`, the first frame of each test tracklet is also a query image, train tracklets become train images.
 */
export async function writeVeriLayout(source: ReidDataset, root: string): Promise<void> {
  for (const folder of ['image_train', 'image_query', 'image_test'])
    await mkdir(path.join(root, folder), { recursive: true });
  const name = (tracklet: Tracklet, frame: number, index: number) =>
    `${String(tracklet.identity + 1).padStart(4, '0')}_c${String(tracklet.camera + 1).padStart(3, '0')}_${String(index * 100 + frame).padStart(8, '0')}_0.jpg`;
  const copy = async (tracklet: Tracklet, index: number, folder: string, frames: number[]) => {
    const names = frames.map((frame) => name(tracklet, frame, index));
    for (const [position, frame] of frames.entries())
      await copyFile(tracklet.frames[frame] as string, path.join(root, folder, names[position] as string));
    return names;
  };
  const trainNames: string[] = [];
  for (const [index, tracklet] of source.train.entries())
    trainNames.push(
      ...(await copy(
        tracklet,
        index,
        'image_train',
        tracklet.frames.map((_, frame) => frame),
      )),
    );
  const testNames: string[] = [];
  const tracks: string[] = [];
  const queryNames: string[] = [];
  const seen = new Set<string>();
  for (const [index, tracklet] of [...source.query, ...source.gallery].entries()) {
    const key = tracklet.frames.join();
    if (seen.has(key)) continue;
    seen.add(key);
    const names = await copy(
      tracklet,
      index,
      'image_test',
      tracklet.frames.map((_, frame) => frame),
    );
    testNames.push(...names);
    tracks.push(`${(names[0] as string).slice(0, 9)} ${names.join(' ')} `);
    queryNames.push(...(await copy(tracklet, index, 'image_query', [0])));
  }
  await writeFile(path.join(root, 'name_train.txt'), `${trainNames.join('\n')}\n`);
  await writeFile(path.join(root, 'name_test.txt'), `${testNames.join('\n')}\n`);
  await writeFile(path.join(root, 'name_query.txt'), `${queryNames.join('\n')}\n`);
  await writeFile(path.join(root, 'test_track.txt'), `${tracks.join('\n')}\n`);
}

/**
 * Builds a tiny ATRW tree: every test frame is an image; a tracklet is a video `[a, camera]` and its frames are
 * 1 apart, so neighbouring frames are near-duplicates (junk) of each other; even identities are `sing` queries,
 * odd ones `multi`.
 */
export async function writeAtrwLayout(source: ReidDataset, root: string): Promise<void> {
  const trainFolder = path.join(root, 'atrw_reid_train', 'train');
  const testFolder = path.join(root, 'atrw_reid_test', 'test');
  for (const folder of [
    trainFolder,
    testFolder,
    path.join(root, 'atrw_anno_reid_train'),
    path.join(root, 'annotations'),
  ])
    await mkdir(folder, { recursive: true });
  let imageId = 0;
  const csv: string[] = [];
  for (const tracklet of source.train) {
    for (const frame of tracklet.frames) {
      const file = `${String(imageId++).padStart(6, '0')}.jpg`;
      await copyFile(frame, path.join(trainFolder, file));
      csv.push(`${tracklet.identity},${file}`);
    }
  }
  const entries: object[] = [];
  const seen = new Set<string>();
  for (const [index, tracklet] of [...source.query, ...source.gallery].entries()) {
    if (seen.has(tracklet.frames.join())) continue;
    seen.add(tracklet.frames.join());
    for (const [frame, file] of tracklet.frames.entries()) {
      const id = imageId++;
      await copyFile(file, path.join(testFolder, `${String(id).padStart(6, '0')}.jpg`));
      entries.push({
        imgid: id,
        entityid: tracklet.identity,
        frame: [index, tracklet.camera, frame * 2],
        query: tracklet.identity % 2 === 0 ? 'sing' : 'multi',
      });
    }
  }
  await writeFile(path.join(root, 'atrw_anno_reid_train', 'reid_list_train.csv'), `${csv.join('\n')}\n`);
  await writeFile(path.join(root, 'annotations', 'gt_test_plain.json'), JSON.stringify(entries));
}
