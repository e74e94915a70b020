import * as tf from '@tensorflow/tfjs-core';
import { InvalidOptionError } from '@vkd/core';
import { createReidModel } from '@vkd/models';
import { expectNoLeak, useBackend } from '@vkd/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { startFromImagenet } from '../src/index';

beforeAll(async () => {
  await useBackend('cpu');
});

async function values(weights: Record<string, tf.Tensor>): Promise<Record<string, number[]>> {
  const result: Record<string, number[]> = {};
  for (const [name, tensor] of Object.entries(weights)) result[name] = Array.from(await tensor.data());
  return result;
}

describe('startFromImagenet', () => {
  it('copies every backbone weight, BN statistics included, and keeps the fresh head and BAM', async () => {
    // The "ImageNet" model: another seed, and a different head size (import-weights writes numIdentities 1).
    const imagenet = createReidModel({
      backbone: 'resnet50',
      attention: 'bam',
      baseWidth: 4,
      numIdentities: 1,
      seed: 9,
    });
    const model = createReidModel({ backbone: 'resnet50', attention: 'bam', baseWidth: 4, numIdentities: 3, seed: 2 });
    const before = model.getWeights();
    const source = imagenet.getWeights();
    const report = await expectNoLeak(() => startFromImagenet(model, imagenet, '--imagenet-weights'));
    const after = await values(model.getWeights());
    const expected = await values(source);
    const initial = await values(before);
    expect(report.loaded.length).toBeGreaterThan(50);
    for (const name of report.loaded) expect(after[name], name).toEqual(expected[name]);
    expect(report.loaded).toContain('backbone.features_layers.0.0.weight');
    expect(report.loaded.some((name) => name.endsWith('running_var'))).toBe(true);
    // Head and BAM: exactly the model's own initial values.
    expect(report.fresh.some((name) => name.startsWith('classifier.'))).toBe(true);
    expect(report.fresh.some((name) => name.includes('.bam.'))).toBe(true);
    for (const name of report.fresh) expect(after[name], name).toEqual(initial[name]);
    expect(report.loaded.length + report.fresh.length).toBe(model.weightSpecs().length);
    tf.dispose([...Object.values(before), ...Object.values(source)]);
    model.dispose();
    imagenet.dispose();
  });

  it('refuses weights of another backbone or width, naming the source, and assigns nothing', async () => {
    const model = createReidModel({ backbone: 'resnet18', baseWidth: 4, numIdentities: 2, seed: 1 });
    const first = await values({ w: model.getWeights()['backbone.features_layers.0.0.weight'] as tf.Tensor });
    const wider = createReidModel({ backbone: 'resnet18', baseWidth: 8, numIdentities: 1 });
    const deeper = createReidModel({ backbone: 'resnet50', baseWidth: 4, numIdentities: 1 });
    expect(() => startFromImagenet(model, wider, '--imagenet-weights')).toThrow(InvalidOptionError);
    expect(() => startFromImagenet(model, wider, '--imagenet-weights')).toThrow(
      /Invalid --imagenet-weights: "resnet18, baseWidth 8". The ImageNet model is a resnet18 \(baseWidth 8\) but the model to train is a resnet18 \(baseWidth 4\)/,
    );
    expect(() => startFromImagenet(model, deeper, 'models/r50')).toThrow(
      /Invalid models\/r50: .*import the ImageNet weights of resnet18/,
    );
    const still = await values({ w: model.getWeights()['backbone.features_layers.0.0.weight'] as tf.Tensor });
    expect(still).toEqual(first);
    for (const m of [model, wider, deeper]) m.dispose();
  });
});
