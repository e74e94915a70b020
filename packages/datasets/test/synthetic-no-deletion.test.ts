import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateSyntheticDataset, loadDataset } from '../src/index';
import { createIncomingFolder, publishGeneratedSet } from '../src/synthetic-publish';
import { SMALL_MARS, temporaryFolder, writeMarsTree } from './helpers';

const OPTIONS = { identities: 4, cameras: 2, trackletsPerIdentity: 1, framesPerTracklet: 2, height: 16, width: 8 };

async function generated(): Promise<string> {
  const root = await temporaryFolder();
  await loadDataset('synthetic', { root, generate: OPTIONS });
  return root;
}

describe('the synthetic generator never deletes or overwrites a file it did not write', () => {
  it('refuses a set made with other options unless asked, and then replaces only the files it lists', async () => {
    const root = await generated();
    const note = join(root, 'notes.txt');
    await writeFile(note, 'mine');
    await expect(loadDataset('synthetic', { root, generate: { ...OPTIONS, seed: 3 } })).rejects.toThrow(
      /with other options: seed 0 \(wanted 3\)/,
    );
    const replaced = await loadDataset('synthetic', { root, generate: { ...OPTIONS, seed: 3 }, regenerate: true });
    expect(replaced.train).toHaveLength(4);
    expect(await readFile(note, 'utf8')).toBe('mine');
    expect((await readdir(root)).sort()).toEqual(['bbox_test', 'bbox_train', 'info', 'notes.txt', 'synthetic.json']);
  });

  it('refuses to regenerate a set holding a user file under bbox_train/, and keeps every file', async () => {
    const root = await generated();
    const mine = join(root, 'bbox_train', '0001', 'my-frame.jpg');
    await writeFile(mine, 'user data');
    const before = (await readdir(root, { recursive: true })).sort();
    await expect(
      loadDataset('synthetic', { root, generate: { ...OPTIONS, seed: 9 }, regenerate: true }),
    ).rejects.toThrow(/my-frame.jpg: was not written by the synthetic generator/);
    expect(await readFile(mine, 'utf8')).toBe('user data');
    expect((await readdir(root, { recursive: true })).sort()).toEqual(before);
  });

  it("refuses to regenerate over listed frames whose content the user replaced (their own frames under the generator's names)", async () => {
    const root = await generated();
    const frames = (await readdir(join(root, 'bbox_train'), { recursive: true })).filter((name) =>
      name.endsWith('.jpg'),
    );
    const own = join(root, 'bbox_train', frames[0] as string);
    const original = await readFile(own);
    await writeFile(own, 'the user’s own frame');
    await expect(
      loadDataset('synthetic', { root, generate: { ...OPTIONS, seed: 9 }, regenerate: true }),
    ).rejects.toThrow(/: has changed since the synthetic generator wrote it .*so the set there is not replaced/);
    expect(await readFile(own, 'utf8')).toBe('the user’s own frame');
    // The generator's own bytes back: replaced as asked.
    await writeFile(own, original);
    const replaced = await loadDataset('synthetic', { root, generate: { ...OPTIONS, seed: 9 }, regenerate: true });
    expect(replaced.train).toHaveLength(4);
  });

  it.each([
    ['truncated', async (manifest: string) => writeFile(manifest, (await readFile(manifest, 'utf8')).slice(0, 40))],
    ['a directory', async (manifest: string) => rm(manifest).then(() => mkdir(manifest))],
    [
      "without a file list (a MARS tree of the user's own frames)",
      async (manifest: string) => {
        const parsed = JSON.parse(await readFile(manifest, 'utf8'));
        delete parsed.files;
        parsed.options.seed = 77;
        await writeFile(manifest, JSON.stringify(parsed));
      },
    ],
  ])('refuses, changing nothing, when the manifest is %s', async (_name, damage) => {
    const root = await generated();
    await damage(join(root, 'synthetic.json'));
    const before = (await readdir(root, { recursive: true })).sort();
    await expect(loadDataset('synthetic', { root, generate: OPTIONS, regenerate: true })).rejects.toThrow(
      /synthetic.json.*nothing was changed/,
    );
    expect((await readdir(root, { recursive: true })).sort()).toEqual(before);
  });

  it('never touches a MARS tree without a manifest, and generateSyntheticDataset never writes over one', async () => {
    const root = await temporaryFolder();
    await writeMarsTree(root, SMALL_MARS, { images: false });
    const before = (await readdir(root, { recursive: true })).sort();
    await expect(generateSyntheticDataset({ root, ...OPTIONS })).rejects.toThrow(/already holds bbox_train/);
    expect((await loadDataset('synthetic', { root, generate: OPTIONS, regenerate: true })).train).toHaveLength(4);
    expect((await readdir(root, { recursive: true })).sort()).toEqual(before);
  });

  it('an interrupted generation leaves nothing in place and can be re-run', async () => {
    const root = await temporaryFolder();
    // A generator killed mid-way leaves only its private folder (named after a pid that is no longer running).
    const crashed = join(root, '.vkd-synthetic-999999999-0badf00d');
    await mkdir(join(crashed, 'info'), { recursive: true });
    await expect(loadDataset('synthetic', { root, generate: false })).rejects.toThrow(/not found/);
    const dataset = await loadDataset('synthetic', { root, generate: OPTIONS });
    expect(dataset.train).toHaveLength(4);
    expect((await readdir(root)).sort()).toEqual(['bbox_test', 'bbox_train', 'info', 'synthetic.json']);
  });

  it('a publish interrupted half-way is completed on the next load (old set or new set, never a mix)', async () => {
    const root = await generated();
    const oldTrain = (await readdir(join(root, 'bbox_train'))).length;
    const incoming = await createIncomingFolder(root);
    await generateSyntheticDataset({ root: incoming, ...OPTIONS, identities: 6, trainIdentities: 2 });
    const manifest = JSON.parse(await readFile(join(incoming, 'synthetic.json'), 'utf8'));
    await writeFile(join(incoming, 'synthetic.json'), JSON.stringify({ ...manifest, files: [] }));
    // Simulate a crash after the journal was written and two old entries were moved out.
    const journal = { incoming: incoming.slice(root.length + 1), outgoing: `${incoming.slice(root.length + 1)}.old` };
    await writeFile(join(root, '.vkd-synthetic-publish.json'), JSON.stringify(journal));
    await mkdir(join(root, journal.outgoing));
    await rename(join(root, 'synthetic.json'), join(root, journal.outgoing, 'synthetic.json'));
    await rename(join(root, 'info'), join(root, journal.outgoing, 'info'));
    const dataset = await loadDataset('synthetic', { root, generate: false });
    expect(dataset.statistics.gallery.identities).toBe(4);
    expect(oldTrain).toBe(2);
    expect((await readdir(root)).sort()).toEqual(['bbox_test', 'bbox_train', 'info', 'synthetic.json']);
    expect(publishGeneratedSet).toBeTypeOf('function');
  });
});
