import * as tf from '@tensorflow/tfjs-core';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointError } from '@vkd/core';
import { useBackend } from '@vkd/testing';
import { createReidModel, deserializeReidModel, loadReidModel, saveReidModel, serializeReidModel } from '@vkd/models';

describe('saveReidModel / loadReidModel', () => {
  let directory: string;
  beforeAll(async () => {
    await useBackend('cpu');
    directory = await mkdtemp(join(tmpdir(), 'vkd-models-'));
  });
  afterAll(() => rm(directory, { recursive: true, force: true }));

  it('round-trips every variable bit-exactly, with the config', async () => {
    const model = createReidModel({
      backbone: 'resnet50',
      attention: 'bam',
      numIdentities: 3,
      baseWidth: 4,
      lastStride: 2,
      seed: 5,
    });
    // Make the moving statistics non-default.
    tf.dispose(model.forward(tf.randomNormal([1, 2, 32, 16, 3], 0, 1, 'float32', 1), { training: true }));
    await saveReidModel(model, join(directory, 'bam'));
    const before = tf.memory().numTensors;
    const loaded = await loadReidModel(join(directory, 'bam'));
    expect(tf.memory().numTensors).toBe(before + model.variables().length);
    expect(loaded.config).toEqual(model.config);
    const original = model.variables();
    for (const [index, variable] of loaded.variables().entries()) {
      const [a, b] = [await variable.data(), await (original[index] as tf.Variable).data()];
      expect(new Uint8Array(a.buffer as ArrayBuffer), model.weightSpecs()[index]?.name).toEqual(
        new Uint8Array(b.buffer as ArrayBuffer),
      );
    }
    expect(loaded.trainableVariables().length).toBe(model.trainableVariables().length);
    model.dispose();
    loaded.dispose();
  });

  it('fails with CheckpointError naming the problem', async () => {
    const model = createReidModel({ backbone: 'resnet18', numIdentities: 2, baseWidth: 4 });
    const folder = join(directory, 'r18');
    await saveReidModel(model, folder);
    await expect(loadReidModel(join(directory, 'missing'))).rejects.toThrow(/model\.json.*cannot read/s);
    const manifest = JSON.parse(await readFile(join(folder, 'model.json'), 'utf8'));
    const { weights } = await serializeReidModel(model);
    expect(() =>
      deserializeReidModel({ ...manifest, config: { ...manifest.config, numIdentities: 3 } }, weights),
    ).toThrow(/classifier\.classifier\.weight/);
    expect(() =>
      deserializeReidModel({ ...manifest, config: { ...manifest.config, backbone: 'resnet34' } }, weights),
    ).toThrow(/missing/);
    expect(() =>
      deserializeReidModel({ ...manifest, config: { ...manifest.config, backbone: 'vgg' } }, weights),
    ).toThrow(/invalid model config/);
    expect(() => deserializeReidModel({ format: 'keras' }, weights)).toThrow(CheckpointError);
    expect(() => deserializeReidModel(manifest, weights.subarray(0, 100))).toThrow(CheckpointError);
    await writeFile(join(folder, 'model.json'), '{ nope');
    await expect(loadReidModel(folder)).rejects.toThrow(/invalid JSON/);
    model.dispose();
  });
});
