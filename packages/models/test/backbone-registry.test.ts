import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { DuplicateKeyError, InvalidOptionError, UnknownKeyError } from '@vkd/core';
import { expectNoLeak, useBackend } from '@vkd/testing';
import {
  backboneNames,
  createReidModel,
  deserializeReidModel,
  getBackbone,
  registerBackbone,
  serializeReidModel,
  type Backbone,
  type ReidModelConfig,
} from '@vkd/models';

/**
 * A two-stage toy backbone written against the public API only (the worked example of
 * contributing/add-a-backbone.md): a 3×3/2 conv with bias + ReLU (stem), then a 1×1 conv with bias (stage 1).
 */
const TOY: Backbone = {
  name: 'toy-test',
  family: 'toy',
  description: 'two convolutions, D = 2·baseWidth',
  attention: ['none'],
  build(config: ReidModelConfig) {
    const width = config.baseWidth;
    const conv = (name: string, kernel: number, inChannels: number, outChannels: number) => [
      {
        name: `${name}.weight`,
        shape: [kernel, kernel, inChannels, outChannels],
        layout: 'conv' as const,
        trainable: true,
        init: { kind: 'kaiming-normal-fan-out' as const },
      },
      {
        name: `${name}.bias`,
        shape: [outChannels],
        layout: 'vector' as const,
        trainable: true,
        init: { kind: 'constant' as const, value: 0.1 },
      },
    ];
    return {
      outChannels: 2 * width,
      specs: [
        ...conv('backbone.features_layers.0.0', 3, 3, width),
        ...conv('backbone.features_layers.1.0', 1, width, 2 * width),
      ],
      stageNames: ['backbone.features_layers.0', 'backbone.features_layers.1'],
      studentReinitPrefixes: ['backbone.features_layers.1.'],
      forward(images, context) {
        const weight = (name: string) => context.variable(`${name}.weight`) as tf.Tensor4D;
        const stem = tf.relu(
          tf.add(
            tf.conv2d(images, weight('backbone.features_layers.0.0'), 2, 'same'),
            context.variable('backbone.features_layers.0.0.bias'),
          ),
        );
        return tf.add(
          tf.conv2d(stem as tf.Tensor4D, weight('backbone.features_layers.1.0'), 1, 'valid'),
          context.variable('backbone.features_layers.1.0.bias'),
        ) as tf.Tensor4D;
      },
    };
  },
  imagenetKey: (key) =>
    key.startsWith('features.') ? `backbone.features_layers.${key.slice('features.'.length)}` : undefined,
  inImagenetWeights: (name) => name.startsWith('backbone.'),
};

describe('backbone registry', () => {
  beforeAll(() => useBackend('cpu'));

  it('holds the VKD ResNets with their attention, output channels and student re-init rule', () => {
    expect(backboneNames().slice(0, 4)).toEqual(['resnet18', 'resnet34', 'resnet50', 'resnet101']);
    expect(getBackbone('resnet18').attention).toEqual(['none']);
    expect(getBackbone('resnet101').attention).toEqual(['none', 'bam']);
    const config = {
      backbone: 'resnet50',
      attention: 'none',
      numIdentities: 2,
      lastStride: 1,
      removeLastBlockReLU: true,
      baseWidth: 64,
      seed: 0,
    } as const;
    const network = getBackbone('resnet50').build(config);
    expect(network.outChannels).toBe(2048);
    expect(getBackbone('resnet34').build({ ...config, backbone: 'resnet34' }).outChannels).toBe(512);
    expect(network.stageNames).toEqual([0, 1, 2, 3, 4].map((index) => `backbone.features_layers.${index}`));
    expect(network.studentReinitPrefixes).toEqual(['backbone.features_layers.4.0.']);
    expect(getBackbone('resnet50').imagenetKey('layer3.5.conv2.weight')).toBe(
      'backbone.features_layers.3.0.5.conv2.weight',
    );
    expect(getBackbone('resnet50').imagenetKey('features.0.weight')).toBeUndefined();
    expect(
      getBackbone('resnet50').inImagenetWeights(
        'backbone.features_layers.1.0.bam.channel_att.gate_c.gate_c_fc_0.weight',
      ),
    ).toBe(false);
  });

  it('rejects unknown names, duplicates and an attention list without none', () => {
    expect(() => getBackbone('resnet152')).toThrow(UnknownKeyError);
    expect(() => getBackbone('resnet152')).toThrow(/Unknown backbone "resnet152". Expected one of: "resnet18"/);
    expect(() => registerBackbone({ ...TOY, name: 'resnet50' })).toThrow(DuplicateKeyError);
    expect(() => registerBackbone({ ...TOY, name: 'toy-bam-only', attention: ['bam'] })).toThrow(InvalidOptionError);
    expect(backboneNames()).not.toContain('toy-bam-only');
  });

  it('states the BAM rule once: attention must be listed by the backbone', () => {
    expect(() => createReidModel({ backbone: 'resnet34', attention: 'bam', numIdentities: 2, baseWidth: 4 })).toThrow(
      'Invalid attention: "bam". BAM is defined for resnet50, resnet101 (as in VKD), not resnet34.',
    );
  });

  it('a registered backbone builds, runs, saves, loads and re-initialises its last stage with no other change', async () => {
    registerBackbone(TOY);
    expect(backboneNames()).toContain('toy-test');
    expect(() => createReidModel({ backbone: 'toy-test', attention: 'bam', numIdentities: 3, baseWidth: 4 })).toThrow(
      /not toy-test/,
    );
    const model = createReidModel({ backbone: 'toy-test', numIdentities: 3, baseWidth: 4, seed: 7 });
    expect(model.embeddingDim).toBe(8);
    expect(model.weightSpecs().map((spec) => spec.name)).toEqual([
      'backbone.features_layers.0.0.weight',
      'backbone.features_layers.0.0.bias',
      'backbone.features_layers.1.0.weight',
      'backbone.features_layers.1.0.bias',
      'classifier.bottleneck.weight',
      'classifier.bottleneck.bias',
      'classifier.bottleneck.running_mean',
      'classifier.bottleneck.running_var',
      'classifier.classifier.weight',
    ]);
    const frames = tf.randomNormal([2, 3, 8, 6, 3], 0, 1, 'float32', 3);
    await expectNoLeak(() => model.forward(frames, { training: true }));
    const output = model.forward(frames, { training: false });
    expect(output.embeddings.shape).toEqual([2, 8]);
    expect(output.logits.shape).toEqual([2, 3]);
    // The embedding is the temporal mean of the spatial mean of the backbone maps, computed here independently.
    const weights = model.getWeights();
    const expected = tf.tidy(() => {
      const images = tf.reshape(frames, [6, 8, 6, 3]) as tf.Tensor4D;
      const stem = tf.relu(
        tf.add(
          tf.conv2d(images, weights['backbone.features_layers.0.0.weight'] as tf.Tensor4D, 2, 'same'),
          weights['backbone.features_layers.0.0.bias'] as tf.Tensor,
        ),
      );
      const maps = tf.add(
        tf.conv2d(stem as tf.Tensor4D, weights['backbone.features_layers.1.0.weight'] as tf.Tensor4D, 1, 'valid'),
        weights['backbone.features_layers.1.0.bias'] as tf.Tensor,
      );
      return tf.mean(tf.reshape(tf.mean(maps, [1, 2]), [2, 3, 8]), 1);
    });
    const difference = tf.tidy(() => tf.max(tf.abs(tf.sub(expected, output.embeddings))).dataSync()[0] as number);
    expect(difference).toBeLessThan(1e-6);

    const { manifest, weights: bytes } = await serializeReidModel(model);
    const restored = deserializeReidModel(JSON.parse(JSON.stringify(manifest)), bytes);
    expect(restored.config.backbone).toBe('toy-test');
    const again = restored.forward(frames, { training: false });
    expect(Array.from(await again.embeddings.data())).toEqual(Array.from(await output.embeddings.data()));

    const stem = Array.from(await (weights['backbone.features_layers.0.0.weight'] as tf.Tensor).data());
    const stage = Array.from(await (weights['backbone.features_layers.1.0.weight'] as tf.Tensor).data());
    model.reinitialiseLastStage();
    const after = model.getWeights();
    expect(Array.from(await (after['backbone.features_layers.0.0.weight'] as tf.Tensor).data())).toEqual(stem);
    expect(Array.from(await (after['backbone.features_layers.1.0.weight'] as tf.Tensor).data())).not.toEqual(stage);
    tf.dispose([
      frames,
      output.embeddings,
      output.logits,
      expected,
      again.embeddings,
      again.logits,
      ...Object.values(weights),
      ...Object.values(after),
    ]);
    model.dispose();
    restored.dispose();
  });
});
