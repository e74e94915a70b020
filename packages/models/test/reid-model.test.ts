import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { InvalidOptionError, ShapeMismatchError } from '@vkd/core';
import { expectNoLeak, useBackend } from '@vkd/testing';
import { createReidModel, type ReidModel, type ReidModelOptions } from '@vkd/models';

const TINY: ReidModelOptions = { backbone: 'resnet18', numIdentities: 5, baseWidth: 4, seed: 1 };

function frames(shape: number[], seed = 0): tf.Tensor {
  return tf.randomNormal(shape, 0, 1, 'float32', seed);
}

async function values(model: ReidModel, name: string): Promise<Float32Array> {
  const index = model.weightSpecs().findIndex((spec) => spec.name === name);
  if (index < 0) throw new Error(`no weight ${name}`);
  return (await (model.variables()[index] as tf.Variable).data()) as Float32Array;
}

describe('createReidModel', () => {
  beforeAll(() => useBackend('cpu'));

  it.each([
    [{ ...TINY, backbone: 'resnet152' }, 'backbone'],
    [{ ...TINY, attention: 'bam' }, 'attention'],
    [{ ...TINY, attention: 'cbam' }, 'attention'],
    [{ ...TINY, numIdentities: 0 }, 'numIdentities'],
    [{ ...TINY, numIdentities: 2.5 }, 'numIdentities'],
    [{ ...TINY, lastStride: 3 }, 'lastStride'],
    [{ ...TINY, baseWidth: 0 }, 'baseWidth'],
    [{ ...TINY, backbone: 'resnet50', attention: 'bam', baseWidth: 2 }, 'baseWidth'],
    [{ ...TINY, removeLastBlockReLU: 'yes' }, 'removeLastBlockReLU'],
    [{ ...TINY, seed: 0.5 }, 'seed'],
  ])('rejects %o with InvalidOptionError naming %s', (options, option) => {
    expect(() => createReidModel(options as ReidModelOptions)).toThrow(InvalidOptionError);
    try {
      createReidModel(options as ReidModelOptions);
    } catch (error) {
      expect((error as InvalidOptionError).option).toBe(option);
    }
  });

  it('has the VKD dimensions, key layout and torchvision zero_init_residual init', async () => {
    const basic = createReidModel(TINY);
    const bottleneck = createReidModel({ backbone: 'resnet101', attention: 'bam', numIdentities: 3, baseWidth: 4 });
    expect(basic.embeddingDim).toBe(32);
    expect(bottleneck.embeddingDim).toBe(128);
    const names = bottleneck.weightSpecs().map((spec) => spec.name);
    expect(names).toContain('backbone.features_layers.1.0.0.conv3.weight');
    expect(names).toContain('backbone.features_layers.3.0.22.bn3.running_var');
    expect(names).toContain('backbone.features_layers.1.0.bam.channel_att.gate_c.gate_c_fc_0.weight');
    expect(names).toContain('backbone.features_layers.3.0.bam.spatial_att.gate_s.gate_s_conv_di_1.bias');
    expect(names.some((name) => name.startsWith('backbone.features_layers.4.0.bam'))).toBe(false);
    expect(names.slice(-5)).toEqual([
      'classifier.bottleneck.weight',
      'classifier.bottleneck.bias',
      'classifier.bottleneck.running_mean',
      'classifier.bottleneck.running_var',
      'classifier.classifier.weight',
    ]);
    expect(
      Array.from(await values(basic, 'backbone.features_layers.1.0.0.bn2.weight')).every((value) => value === 0),
    ).toBe(true);
    expect(
      Array.from(await values(basic, 'backbone.features_layers.1.0.0.bn1.weight')).every((value) => value === 1),
    ).toBe(true);
    const classifier = await values(basic, 'classifier.classifier.weight');
    const std = Math.sqrt(classifier.reduce((sum, value) => sum + value * value, 0) / classifier.length);
    expect(std).toBeGreaterThan(0.0005);
    expect(std).toBeLessThan(0.002);
    basic.dispose();
    bottleneck.dispose();
  });

  it('is deterministic for a seed and differs across seeds', async () => {
    const [first, second, other] = [
      createReidModel(TINY),
      createReidModel(TINY),
      createReidModel({ ...TINY, seed: 2 }),
    ];
    const name = 'backbone.features_layers.0.0.weight';
    expect(await values(first, name)).toEqual(await values(second, name));
    expect(await values(first, name)).not.toEqual(await values(other, name));
    [first, second, other].forEach((model) => model.dispose());
  });

  it('lists trainable variables without BN moving statistics or the frozen BNNeck bias', () => {
    const model = createReidModel(TINY);
    const trainable = new Set(model.trainableVariables());
    const specs = model.weightSpecs();
    expect(model.variables().length).toBe(specs.length);
    specs.forEach((spec, index) => {
      const frozen =
        spec.name.endsWith('running_mean') ||
        spec.name.endsWith('running_var') ||
        spec.name === 'classifier.bottleneck.bias';
      expect(trainable.has(model.variables()[index] as tf.Variable), spec.name).toBe(!frozen);
      expect((model.variables()[index] as tf.Variable).trainable).toBe(!frozen);
    });
    model.dispose();
  });
});

describe('ReidModel.forward', () => {
  let model: ReidModel;
  beforeAll(async () => {
    await useBackend('cpu');
    model = createReidModel(TINY);
    // Non-trivial moving statistics and residual branches, so that modes differ.
    model.setWeights({ 'backbone.features_layers.4.0.1.bn2.weight': tf.fill([32], 0.5) });
    return () => model.dispose();
  });

  it('returns [B, D] embeddings, [B, I] logits and [B·T, h, w, D] maps (output stride 16)', () => {
    const input = frames([2, 3, 64, 32, 3]);
    const output = model.forward(input, { training: false, returnFeatureMaps: true });
    expect(output.embeddings.shape).toEqual([2, 32]);
    expect(output.logits.shape).toEqual([2, 5]);
    expect(output.featureMaps?.shape).toEqual([6, 4, 2, 32]);
    const stride2 = createReidModel({ ...TINY, lastStride: 2 });
    const maps = stride2.forward(input, { training: false, returnFeatureMaps: true }).featureMaps;
    expect(maps?.shape).toEqual([6, 2, 1, 32]);
    tf.dispose([input, output as never, maps as tf.Tensor]);
    stride2.dispose();
  });

  it('forwardFromFeatureMaps reproduces forward and gives Grad-CAM gradients w.r.t. layer4 maps', async () => {
    const input = frames([2, 3, 32, 16, 3], 8);
    const { embeddings, logits, featureMaps } = model.forward(input, { training: false, returnFeatureMaps: true });
    const maps = featureMaps as tf.Tensor4D;
    const head = await expectNoLeak(async () => {
      const output = model.forwardFromFeatureMaps(maps, { framesPerTracklet: 3 });
      return { embeddings: await output.embeddings.data(), logits: await output.logits.data(), tensors: output };
    });
    expect(head.embeddings).toEqual(await embeddings.data());
    expect(head.logits).toEqual(await logits.data());
    const camGradient = tf.grad((x: tf.Tensor) =>
      tf.sum(tf.slice(model.forwardFromFeatureMaps(x as tf.Tensor4D, { framesPerTracklet: 3 }).logits, [0, 1], [1, 1])),
    )(maps);
    expect(camGradient.shape).toEqual(maps.shape);
    const gradient = (await camGradient.array()) as number[][][][];
    expect(gradient[0]!.flat(2).some((value) => value !== 0)).toBe(true);
    expect(gradient[3]!.flat(2).every((value) => value === 0)).toBe(true); // frame 3 belongs to tracklet 1
    expect(() => model.forwardFromFeatureMaps(maps, { framesPerTracklet: 4 })).toThrow(ShapeMismatchError);
    expect(() => model.forwardFromFeatureMaps(maps, { framesPerTracklet: 0 })).toThrow(InvalidOptionError);
    tf.dispose([input, embeddings, logits, maps, camGradient]);
  });

  it('averages pre-BNNeck features over frames and logits after the classifier (VKD net.py L214-231)', async () => {
    const input = frames([2, 3, 32, 16, 3], 3);
    const tracklets = model.forward(input, { training: false });
    const single = model.forward(tf.reshape(input, [6, 32, 16, 3]), { training: false });
    const perFrame = { embeddings: await single.embeddings.array(), logits: await single.logits.array() };
    const mean = (rows: number[][], b: number) =>
      rows[0]!.map((_, j) => (rows[3 * b]![j]! + rows[3 * b + 1]![j]! + rows[3 * b + 2]![j]!) / 3);
    const embeddings = await tracklets.embeddings.array();
    const logits = await tracklets.logits.array();
    for (const b of [0, 1]) {
      mean(perFrame.embeddings, b).forEach((value, j) => expect(embeddings[b]![j]).toBeCloseTo(value, 5));
      mean(perFrame.logits, b).forEach((value, j) => expect(logits[b]![j]).toBeCloseTo(value, 5));
    }
    tf.dispose([input, tracklets as never, single as never]);
  });

  it('updates moving statistics only in training mode with unset batchNorm, and leaks nothing', async () => {
    const input = frames([2, 2, 32, 16, 3], 4);
    const name = 'backbone.features_layers.0.1.running_mean';
    const initial = await values(model, name);
    for (const options of [
      { training: false },
      { training: true, batchNorm: 'moving' as const },
      { training: true, batchNorm: 'batch-stats-frozen' as const },
    ]) {
      await expectNoLeak(() => model.forward(input, options));
      expect(await values(model, name)).toEqual(initial);
    }
    await expectNoLeak(() => model.forward(input, { training: true, returnFeatureMaps: true }));
    const updated = await values(model, name);
    expect(updated).not.toEqual(initial);
    input.dispose();
  });

  it('trains inside optimizer.minimize without leaking, leaving the frozen BNNeck bias at 0', async () => {
    const trainModel = createReidModel({ ...TINY, seed: 9 });
    const input = frames([2, 2, 32, 16, 3], 5);
    const optimizer = tf.train.sgd(0.1);
    const step = () =>
      optimizer.minimize(
        () => tf.mean(tf.square(trainModel.forward(input, { training: true }).logits)) as tf.Scalar,
        false,
        trainModel.trainableVariables(),
      );
    step(); // the first step may create optimizer state
    const before = tf.memory().numTensors;
    step();
    step();
    expect(tf.memory().numTensors).toBe(before);
    expect(Array.from(await values(trainModel, 'classifier.bottleneck.bias')).every((value) => value === 0)).toBe(true);
    const grads = tf.variableGrads(
      () => tf.sum(trainModel.forward(input, { training: true }).embeddings) as tf.Scalar,
      trainModel.trainableVariables(),
    );
    expect(Object.keys(grads.grads).length).toBeGreaterThan(0);
    tf.dispose([grads.value, ...Object.values(grads.grads), input]);
    optimizer.dispose();
    trainModel.dispose();
  });

  it('runs a VKD distillation step: frozen teacher (batch-stats-frozen) and student in one minimize closure', async () => {
    const teacher = createReidModel({ ...TINY, seed: 11 });
    const student = teacher.clone();
    const input = frames([2, 4, 32, 16, 3], 7);
    const subset = tf.slice(input, [0, 0], [2, 2]);
    const teacherBefore = await Promise.all(teacher.variables().map((variable) => variable.data()));
    const studentMean = 'backbone.features_layers.0.1.running_mean';
    const studentMeanBefore = await values(student, studentMean);
    const optimizer = tf.train.sgd(0.1);
    const start = tf.memory().numTensors;
    optimizer.minimize(
      () => {
        const target = teacher.forward(input, { training: false, batchNorm: 'batch-stats-frozen' });
        const output = student.forward(subset, { training: true });
        return tf.add(
          tf.losses.meanSquaredError(target.logits, output.logits),
          tf.losses.meanSquaredError(target.embeddings, output.embeddings),
        ) as tf.Scalar;
      },
      false,
      student.trainableVariables(),
    );
    expect(tf.memory().numTensors).toBe(start);
    const teacherAfter = await Promise.all(teacher.variables().map((variable) => variable.data()));
    teacherAfter.forEach((data, index) =>
      expect(data, teacher.weightSpecs()[index]?.name).toEqual(teacherBefore[index]),
    );
    expect(await values(student, studentMean)).not.toEqual(studentMeanBefore);
    // Frozen-BN fine-tuning: training with moving statistics also has gradients.
    const { grads, value } = tf.variableGrads(
      () => tf.sum(student.forward(subset, { training: true, batchNorm: 'moving' }).logits) as tf.Scalar,
      student.trainableVariables(),
    );
    expect(Object.keys(grads).length).toBe(student.trainableVariables().length);
    tf.dispose([input, subset, value, ...Object.values(grads)]);
    optimizer.dispose();
    teacher.dispose();
    student.dispose();
  });

  it.each([
    [[2, 32, 16], ShapeMismatchError],
    [[1, 2, 32, 16, 4], ShapeMismatchError],
    [[1, 1, 1, 32, 16, 3], ShapeMismatchError],
  ])('rejects frames of shape %o', (shape, error) => {
    const input = tf.zeros(shape);
    expect(() => model.forward(input, { training: false })).toThrow(error);
    input.dispose();
  });

  it('rejects int32 frames, missing training flag, unknown batchNorm modes and one-frame batch statistics', () => {
    const input = tf.zeros([1, 32, 16, 3], 'int32');
    expect(() => model.forward(input, { training: false })).toThrow(/float32/);
    const floats = tf.zeros([1, 32, 16, 3]);
    expect(() => model.forward(floats, {} as never)).toThrow(InvalidOptionError);
    expect(() => model.forward(floats, { training: true, batchNorm: 'train' as never })).toThrow(/batchNorm/);
    expect(() => model.forward(floats, { training: true })).toThrow(/at least 2 frames/);
    expect(() => model.forward(floats, { training: false, batchNorm: 'batch-stats-frozen' })).toThrow(
      InvalidOptionError,
    );
    tf.dispose([input, floats]);
  });
});

describe('ReidModel weights, clone, head and last-stage re-initialisation', () => {
  beforeAll(() => useBackend('cpu'));

  it('getWeights returns copies; setWeights validates before assigning', async () => {
    const model = createReidModel(TINY);
    const weights = await expectNoLeak(() => model.getWeights());
    expect(Object.keys(weights).length).toBe(model.weightSpecs().length);
    const name = 'classifier.classifier.weight';
    expect(() => model.setWeights({ 'backbone.nope': tf.zeros([1]) })).toThrow(/Not a weight/);
    expect(() => model.setWeights({ [name]: tf.zeros([5, 32]) })).toThrow(ShapeMismatchError);
    expect(() => model.setWeights({ [name]: tf.zeros([32, 5], 'int32') })).toThrow(InvalidOptionError);
    expect(() => model.setWeights({ 'classifier.bottleneck.weight': tf.ones([32]), [name]: tf.zeros([1]) })).toThrow(
      ShapeMismatchError,
    );
    expect(Array.from(await values(model, 'classifier.bottleneck.weight')).every((value) => value === 1)).toBe(true);
    model.dispose();
    expect(() => model.forward(tf.zeros([1, 32, 16, 3]), { training: false })).toThrow(/disposed/);
  });

  it('clone() is independent and leak-free', async () => {
    const model = createReidModel(TINY);
    const input = frames([1, 2, 32, 16, 3], 6);
    const start = tf.memory().numTensors;
    const copy = model.clone();
    expect(tf.memory().numTensors).toBe(start + model.variables().length);
    expect(await copy.forward(input, { training: false }).logits.data()).toEqual(
      await model.forward(input, { training: false }).logits.data(),
    );
    copy.setWeights({ 'classifier.classifier.weight': tf.ones([32, 5]) });
    expect((await values(model, 'classifier.classifier.weight'))[0]).not.toBe(1);
    const before = tf.memory().numTensors;
    copy.dispose();
    expect(tf.memory().numTensors).toBe(before - model.variables().length);
    expect(() => copy.variables()).toThrow(/disposed/);
    model.dispose();
    tf.dispose(input);
  });

  it('resetHead() restores the VKD head init, in place or with a new identity count', async () => {
    const model = createReidModel(TINY);
    const classifier = model.trainableVariables().at(-1);
    model.setWeights({
      'classifier.bottleneck.weight': tf.fill([32], 3),
      'classifier.bottleneck.running_var': tf.fill([32], 7),
    });
    model.resetHead();
    expect(model.trainableVariables().at(-1)).toBe(classifier);
    expect(Array.from(await values(model, 'classifier.bottleneck.weight')).every((value) => value === 1)).toBe(true);
    expect(Array.from(await values(model, 'classifier.bottleneck.running_var')).every((value) => value === 1)).toBe(
      true,
    );
    const before = tf.memory().numTensors;
    model.resetHead(9);
    expect(tf.memory().numTensors).toBe(before);
    expect(model.config.numIdentities).toBe(9);
    const logits = model.forward(tf.zeros([2, 32, 16, 3]), { training: false }).logits;
    expect(logits.shape).toEqual([2, 9]);
    expect(() => model.resetHead(0)).toThrow(InvalidOptionError);
    model.dispose();
  });

  it('reinitialiseLastStage() touches layer4 only (VKD reinit_layers), from given weights or randomly', async () => {
    const teacher = createReidModel({ ...TINY, seed: 3 });
    const imagenet = createReidModel({ ...TINY, seed: 4 });
    const student = teacher.clone();
    const imagenetWeights = imagenet.getWeights();
    await expectNoLeak(() => student.reinitialiseLastStage(imagenetWeights));
    for (const [index, spec] of student.weightSpecs().entries()) {
      const source = spec.name.startsWith('backbone.features_layers.4.') ? imagenet : teacher;
      expect(await (student.variables()[index] as tf.Variable).data(), spec.name).toEqual(
        await values(source, spec.name),
      );
    }
    const layer4 = 'backbone.features_layers.4.0.0.conv1.weight';
    student.reinitialiseLastStage();
    expect(await values(student, layer4)).not.toEqual(await values(imagenet, layer4));
    expect(await values(student, 'backbone.features_layers.3.0.0.conv1.weight')).toEqual(
      await values(teacher, 'backbone.features_layers.3.0.0.conv1.weight'),
    );
    const { [layer4]: removed, ...partial } = imagenetWeights;
    expect(() => student.reinitialiseLastStage(partial)).toThrow(/last-stage.*features_layers\.4/);
    tf.dispose([removed as tf.Tensor, ...Object.values(partial)]);
    [teacher, imagenet, student].forEach((model) => model.dispose());
  });
});
