import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointError } from '@vkd/core';
import { useBackend } from '@vkd/testing';
import {
  createReidModel,
  loadReidModel,
  modelMetadata,
  saveReidModel,
  setModelMetadata,
  type ModelMetadata,
} from '@vkd/models';

const METADATA: ModelMetadata = {
  input: { height: 128, width: 64, normalization: { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] } },
  training: { stage: 'teacher', dataset: 'mars', numIdentities: 2, framesPerTracklet: 4, testFrames: 8 },
};

describe('model metadata in model.json', () => {
  let directory: string;
  beforeAll(async () => {
    await useBackend('cpu');
    directory = await mkdtemp(join(tmpdir(), 'vkd-metadata-'));
  });
  afterAll(() => rm(directory, { recursive: true, force: true }));

  it('records the input size, normalisation and training record, and reads them back', async () => {
    const model = createReidModel({ backbone: 'resnet18', numIdentities: 2, baseWidth: 4 });
    setModelMetadata(model, METADATA);
    await saveReidModel(model, join(directory, 'with'));
    const manifest = JSON.parse(await readFile(join(directory, 'with', 'model.json'), 'utf8'));
    expect(manifest.metadata).toEqual(METADATA);
    expect(manifest.config.backbone).toBe('resnet18');
    const loaded = await loadReidModel(join(directory, 'with'));
    expect(modelMetadata(loaded)).toEqual(METADATA);
    // A copy saved from the loaded model keeps it (checkpoints and model directories written from it carry it).
    await saveReidModel(loaded, join(directory, 'again'));
    expect(JSON.parse(await readFile(join(directory, 'again', 'model.json'), 'utf8')).metadata).toEqual(METADATA);
    model.dispose();
    loaded.dispose();
  });

  it('keeps model directories without metadata loadable', async () => {
    const model = createReidModel({ backbone: 'resnet18', numIdentities: 2, baseWidth: 4 });
    await saveReidModel(model, join(directory, 'old'));
    const manifest = JSON.parse(await readFile(join(directory, 'old', 'model.json'), 'utf8'));
    expect(manifest).not.toHaveProperty('metadata');
    const loaded = await loadReidModel(join(directory, 'old'));
    expect(modelMetadata(loaded)).toBeUndefined();
    model.dispose();
    loaded.dispose();
  });

  it('rejects damaged metadata with a CheckpointError naming the field', async () => {
    const model = createReidModel({ backbone: 'resnet18', numIdentities: 2, baseWidth: 4 });
    const folder = join(directory, 'bad');
    await saveReidModel(model, folder, { metadata: METADATA });
    const manifest = JSON.parse(await readFile(join(folder, 'model.json'), 'utf8'));
    await writeFile(
      join(folder, 'model.json'),
      JSON.stringify({ ...manifest, metadata: { ...METADATA, input: { ...METADATA.input, height: 0 } } }),
    );
    await expect(loadReidModel(folder)).rejects.toThrow(CheckpointError);
    await expect(loadReidModel(folder)).rejects.toThrow(/metadata\.input\.height/);
    expect(() =>
      setModelMetadata(model, { input: { height: 8, width: 8, normalization: { mean: [0], std: [1] } } }),
    ).toThrow(/normalization/);
    model.dispose();
  });
});
