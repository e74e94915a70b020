import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTrackletLoader, type TrackletBatch } from '@vkd/datasets/node';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadRunDataset } from '../src/run/load-run-dataset';
import { trainingLoaderFor } from '../src/run/train-stage';
import type { ReidDataset } from '@vkd/datasets';
import { generateSyntheticSet } from './support/synthetic-set';

let dataset: ReidDataset;

beforeAll(async () => {
  const root = join(await mkdtemp(join(tmpdir(), 'vkd-loader-')), 'data');
  const generated = await generateSyntheticSet(root, {
    identities: 4,
    cameras: 2,
    framesPerTracklet: 2,
    height: 32,
    width: 32,
  });
  expect(generated.code).toBe(0);
  dataset = await loadRunDataset('synthetic', root);
}, 60_000);

async function frames(source: AsyncIterable<TrackletBatch> | Iterable<TrackletBatch>): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for await (const batch of source) out.push(batch.frames);
  return out;
}

describe("trainingLoaderFor: the dataset table's augmentation reaches the training loader", () => {
  it('VeRi and ATRW erase with aspect 0.7–1.4, MARS with the person default; same seed, same crops and flips', async () => {
    // Many frames so that random erasing (p = 0.5) happens and the two aspect ranges draw different rectangles.
    const request = {
      tracklets: dataset.train,
      batches: [[0, 1, 2, 3]],
      framesPerTracklet: 2,
      strategy: 'chunk' as const,
      imageSize: [32, 32] as const,
      augment: true,
      seed: 7,
    };
    const vehicle = await frames(trainingLoaderFor('veri-776')(request));
    const explicit = await frames(
      createTrackletLoader({ ...request, augmentation: { erasing: { aspect: [0.7, 1.4] } } }),
    );
    const person = await frames(trainingLoaderFor('mars')(request));
    const personDefault = await frames(createTrackletLoader(request));
    expect(vehicle).toEqual(explicit);
    expect(person).toEqual(personDefault);
    expect(vehicle).not.toEqual(person);
    // ATRW also letterboxes (32×32 frames stay 32×32: no padding, so only the erasing differs from MARS's default).
    expect(await frames(trainingLoaderFor('atrw')(request))).toEqual(explicit);
  });
});
