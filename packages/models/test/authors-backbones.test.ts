import * as tf from '@tensorflow/tfjs-core';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { InvalidOptionError, UnknownKeyError } from '@vkd/core';
import { expectNoLeak, useBackend } from '@vkd/testing';
import {
  backboneChoices,
  createReidModel,
  deserializeReidModel,
  encodeSafetensors,
  getBackbone,
  importTorchWeights,
  parseSafetensors,
  resolveBackboneName,
  serializeReidModel,
  type ReidModel,
  type ReidModelConfig,
} from '@vkd/models';
import { FIXTURE_ROOT, loadTorchFixture } from './torch-fixtures';

const FULL: Omit<ReidModelConfig, 'backbone' | 'lastStride'> = {
  attention: 'none',
  numIdentities: 625,
  removeLastBlockReLU: true,
  baseWidth: 64,
  seed: 0,
};

/** PyTorch's `sum(p.numel() for p in model.features.parameters())` counts only trainable tensors (no BN buffers). */
function parameterCount(backbone: string, lastStride: 1 | 2): { parameters: number; buffers: number } {
  const specs = getBackbone(backbone).build({ ...FULL, backbone, lastStride }).specs;
  const size = (shape: readonly number[]) => shape.reduce((product, dim) => product * dim, 1);
  const buffers = specs.filter((spec) => spec.name.endsWith('running_mean') || spec.name.endsWith('running_var'));
  return {
    parameters: specs.filter((spec) => spec.trainable).reduce((sum, spec) => sum + size(spec.shape), 0),
    buffers: buffers.reduce((sum, spec) => sum + size(spec.shape), 0),
  };
}

async function weightValues(model: ReidModel): Promise<Map<string, Float32Array>> {
  const variables = model.variables();
  return new Map(
    await Promise.all(
      model
        .weightSpecs()
        .map(
          async (spec, index) => [spec.name, (await (variables[index] as tf.Variable).data()) as Float32Array] as const,
        ),
    ),
  );
}

describe('the authors’ backbones (model/net.py Backbone.BACKBONES)', () => {
  beforeAll(() => useBackend('cpu'));

  it('are all accepted: the registry names and the combined BAM names', () => {
    expect(backboneChoices()).toEqual(
      expect.arrayContaining([
        'resnet18',
        'resnet34',
        'resnet50',
        'resnet101',
        'resnet50bam',
        'resnet101bam',
        'densenet121',
        'mobilenet',
      ]),
    );
  });

  it('have torchvision’s parameter counts at full width (densenet121 / mobilenet_v2 .features, vkd_backbones.py)', () => {
    // torchvision 0.14: densenet121().features 6,953,856 parameters; mobilenet_v2().features 2,223,872.
    expect(parameterCount('densenet121', 2).parameters).toBe(6_953_856);
    expect(parameterCount('mobilenet', 1).parameters).toBe(2_223_872);
    // Running statistics = 2 × BN channels = the BN weight + bias count.
    expect(parameterCount('mobilenet', 1).buffers).toBe(2 * 17_056);
    expect(getBackbone('densenet121').build({ ...FULL, backbone: 'densenet121', lastStride: 2 }).outChannels).toBe(
      1024,
    );
    expect(getBackbone('mobilenet').build({ ...FULL, backbone: 'mobilenet', lastStride: 1 }).outChannels).toBe(1280);
  });

  it('have the authors’ output strides: DenseNet 32, MobileNet 16 (torchvision stride 32 with lastStride 2)', () => {
    const input = tf.zeros([1, 256, 128, 3]);
    for (const [options, shape] of [
      [{ backbone: 'densenet121', baseWidth: 8 }, [1, 8, 4, 128]],
      [{ backbone: 'mobilenet', baseWidth: 16 }, [1, 16, 8, 1280]],
      [{ backbone: 'mobilenet', baseWidth: 16, lastStride: 2 }, [1, 8, 4, 1280]],
    ] as const) {
      const model = createReidModel({ ...options, numIdentities: 3 });
      const { embeddings, logits, featureMaps } = model.forward(input, { training: false, returnFeatureMaps: true });
      expect(featureMaps?.shape, options.backbone).toEqual(shape);
      tf.dispose([embeddings, logits, featureMaps!]);
      model.dispose();
    }
    input.dispose();
  });

  it('resolve resnet50bam / resnet101bam to the ResNet with BAM, and refuse a contradicting attention', () => {
    const model = createReidModel({ backbone: 'resnet101bam', numIdentities: 3, baseWidth: 4 });
    expect(model.config.backbone).toBe('resnet101');
    expect(model.config.attention).toBe('bam');
    expect(model.weightSpecs().some((spec) => spec.name.includes('.bam.'))).toBe(true);
    model.dispose();
    expect(resolveBackboneName('resnet50bam')).toEqual({ backbone: 'resnet50', attention: 'bam' });
    expect(resolveBackboneName('resnet50bam', 'bam')).toEqual({ backbone: 'resnet50', attention: 'bam' });
    expect(resolveBackboneName('resnet50')).toEqual({ backbone: 'resnet50', attention: 'none' });
    expect(() => resolveBackboneName('resnet50bam', 'none', '--attention')).toThrow(
      /"resnet50bam" is resnet50 with attention "bam"/,
    );
    expect(() => createReidModel({ backbone: 'resnet50bam', attention: 'none', numIdentities: 3 })).toThrow(
      InvalidOptionError,
    );
    expect(() => resolveBackboneName('resnet152')).toThrow(UnknownKeyError);
  });

  it.each([
    [{ backbone: 'densenet121', lastStride: 1 }, 'lastStride', /Expected 2 \(torchvision\) for densenet121/],
    [{ backbone: 'densenet121', baseWidth: 7 }, 'baseWidth', /even baseWidth/],
    [{ backbone: 'densenet121', attention: 'bam' }, 'attention', /BAM is defined for resnet50, resnet101/],
    [{ backbone: 'mobilenet', attention: 'bam' }, 'attention', /not mobilenet/],
    [{ backbone: 'mobilenet', lastStride: 3 }, 'lastStride', /Expected 1 \(VKD default\) or 2/],
  ])('rejects %o with InvalidOptionError naming %s', (options, option, message) => {
    const create = () => createReidModel({ numIdentities: 3, baseWidth: 8, ...options } as never);
    expect(create).toThrow(message);
    try {
      create();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect((error as InvalidOptionError).option).toBe(option);
    }
  });

  it('use torchvision’s init: DenseNet convs kaiming-normal fan-in, MobileNet fan-out (depthwise: 9·C)', async () => {
    const densenet = createReidModel({ backbone: 'densenet121', numIdentities: 3, baseWidth: 64, seed: 3 });
    const mobilenet = createReidModel({ backbone: 'mobilenet', numIdentities: 3, baseWidth: 64, seed: 3 });
    const std = (values: Float32Array) =>
      Math.sqrt(values.reduce((sum, value) => sum + value * value, 0) / values.length);
    // denseblock4's last 1×1 conv1: 992 inputs → std √(2/992);
    // MobileNet features[17] depthwise [960, 1, 3, 3] → √(2/(9·960)).
    const dense = (await weightValues(densenet)).get('backbone.features_layers.10.denselayer16.conv1.weight')!;
    expect(std(dense) / Math.sqrt(2 / 992)).toBeCloseTo(1, 1);
    const depthwise = (await weightValues(mobilenet)).get('backbone.features_layers.17.conv.1.0.weight')!;
    expect(depthwise.length).toBe(9 * 960);
    expect(std(depthwise) / Math.sqrt(2 / (9 * 960))).toBeCloseTo(1, 1);
    densenet.dispose();
    mobilenet.dispose();
  });
});

describe('student re-initialisation rule (TriNet.reinit_layers)', () => {
  beforeAll(() => useBackend('cpu'));

  it('DenseNet reloads denseblock4 only (norm5 keeps its values); MobileNet nothing of the backbone', async () => {
    expect(
      getBackbone('densenet121').build({ ...FULL, backbone: 'densenet121', lastStride: 2 }).studentReinitPrefixes,
    ).toEqual(['backbone.features_layers.10.']);
    expect(
      getBackbone('mobilenet').build({ ...FULL, backbone: 'mobilenet', lastStride: 1 }).studentReinitPrefixes,
    ).toEqual([]);
    for (const backbone of ['densenet121', 'mobilenet']) {
      const model = createReidModel({ backbone, numIdentities: 3, baseWidth: 8, seed: 1 });
      const donor = createReidModel({ backbone, numIdentities: 3, baseWidth: 8, seed: 2 });
      const before = await weightValues(model);
      const donorWeights = donor.getWeights();
      model.reinitialiseLastStage(donorWeights);
      const [after, expected] = [await weightValues(model), await weightValues(donor)];
      for (const [name, values] of after) {
        const reloaded = backbone === 'densenet121' && name.startsWith('backbone.features_layers.10.');
        expect(values, name).toEqual(reloaded ? expected.get(name) : before.get(name));
      }
      tf.dispose(Object.values(donorWeights));
      model.dispose();
      donor.dispose();
    }
  });
});

describe('torchvision-format import of DenseNet-121 and MobileNet-V2', () => {
  beforeAll(() => useBackend('cpu'));

  it.each(['densenet121-w8', 'mobilenet-w16'])(
    '%s: torchvision names (auto-detected) give the VKD import’s backbone; classifier.* ignored',
    async (name) => {
      const fixture = await loadTorchFixture(name);
      const reference = createReidModel(fixture.options);
      await importTorchWeights(reference, fixture.weightsPath);
      const model = createReidModel(fixture.options);
      const headBefore = (await weightValues(model)).get('classifier.classifier.weight');
      const report = await expectNoLeak(() =>
        importTorchWeights(model, join(FIXTURE_ROOT, name, 'torchvision.safetensors')),
      );
      expect(report.format).toBe('torchvision');
      expect(report.ignored.filter((key) => key.startsWith('classifier.')).length).toBe(2);
      expect(report.untouched.every((key) => key.startsWith('classifier.'))).toBe(true);
      expect([...report.missing, ...report.unexpected]).toEqual([]);
      const [ours, expected] = [await weightValues(model), await weightValues(reference)];
      for (const [key, values] of ours) if (key.startsWith('backbone.')) expect(values, key).toEqual(expected.get(key));
      expect(ours.get('classifier.classifier.weight')).toEqual(headBefore);
      reference.dispose();
      model.dispose();
    },
  );

  it('reads the legacy DenseNet names of torchvision’s ImageNet file (denselayer1.norm.1.weight)', async () => {
    const fixture = await loadTorchFixture('densenet121-w8');
    const { entries } = parseSafetensors(
      new Uint8Array(await readFile(join(FIXTURE_ROOT, 'densenet121-w8', 'torchvision.safetensors'))),
    );
    const legacyName = (key: string) => key.replace(/(\.denselayer\d+\.(?:norm|relu|conv))([12])\./, '$1.$2.');
    const legacy = Object.fromEntries(
      Object.entries(entries).map(([key, entry]) => [legacyName(key), { ...entry, data: entry.data.slice() }]),
    );
    expect(Object.keys(legacy)).toContain('features.denseblock4.denselayer16.norm.1.running_var');
    const [model, reference] = [createReidModel(fixture.options), createReidModel(fixture.options)];
    await importTorchWeights(reference, join(FIXTURE_ROOT, 'densenet121-w8', 'torchvision.safetensors'));
    const report = await importTorchWeights(model, encodeSafetensors(legacy), { format: 'torchvision' });
    expect([...report.missing, ...report.unexpected]).toEqual([]);
    expect(await weightValues(model)).toEqual(await weightValues(reference));
    model.dispose();
    reference.dispose();
  });

  it('refuses a ResNet file given to a DenseNet (nothing assigned)', async () => {
    const fixture = await loadTorchFixture('densenet121-w8');
    const model = createReidModel(fixture.options);
    const before = await weightValues(model);
    await expect(
      importTorchWeights(model, join(FIXTURE_ROOT, 'resnet18-w8', 'torchvision.safetensors')),
    ).rejects.toThrow(/604 model weight\(s\) missing from this torchvision file/);
    expect(await weightValues(model)).toEqual(before);
    model.dispose();
  });
});

describe('DenseNet / MobileNet models without leaks and through save / load', () => {
  beforeAll(() => useBackend('cpu'));

  it.each(['densenet121', 'mobilenet'])(
    '%s: forward in eval, train and frozen modes, and gradients, leave no tensor behind',
    async (backbone) => {
      const model = createReidModel({ backbone, numIdentities: 4, baseWidth: 8, seed: 5 });
      const frames = tf.randomNormal([2, 1, 32, 32, 3], 0, 1, 'float32', 1);
      for (const options of [
        { training: false },
        { training: true },
        { training: false, batchNorm: 'batch-stats-frozen' as const },
      ]) {
        const output = await expectNoLeak(() => model.forward(frames, options));
        expect(output.embeddings.shape).toEqual([2, model.embeddingDim]);
      }
      await expectNoLeak(() => {
        const { value, grads } = tf.variableGrads(
          () => tf.sum(model.forward(frames, { training: true }).logits) as tf.Scalar,
          model.trainableVariables(),
        );
        expect(Object.keys(grads).length).toBe(model.trainableVariables().length);
        return [value, ...Object.values(grads)];
      });
      const { manifest, weights } = await serializeReidModel(model);
      const restored = deserializeReidModel(manifest, weights);
      expect(restored.config).toEqual(model.config);
      expect(await weightValues(restored)).toEqual(await weightValues(model));
      restored.dispose();
      frames.dispose();
      model.dispose();
    },
  );
});
