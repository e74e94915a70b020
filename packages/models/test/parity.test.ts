import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { maxRelativeDifference, useBackend } from '@vkd/testing';
import { createReidModel, importTorchWeights, type ReidModel } from '@vkd/models';
import { toModelLayout } from '../src/weights/torch-layout';
import { loadTorchFixture, scaledDifference, type TorchFixture } from './torch-fixtures';

const VARIANTS = [
  'resnet18-w8',
  'resnet18-w8-torchvision-stride',
  'resnet34-w8',
  'resnet50-w8',
  'resnet50bam-w8',
  'resnet101-w4',
  'resnet101bam-w4',
  'densenet121-w8',
  'mobilenet-w16',
];
/** Parameters whose train-mode gradients each fixture records (make_fixtures.py GRAD_SUFFIXES + the head). */
const GRADIENT_COUNTS: Record<string, number> = {
  'resnet18-w8': 6,
  'resnet50bam-w8': 18,
  'densenet121-w8': 8,
  'mobilenet-w16': 8,
};
/**
 * Relative tolerance: max|ours − reference| / max|reference| per tensor. The references are float64 PyTorch runs of
 * the same float32 weights; float32 PyTorch itself is within 6e-6 of them on these fixtures (make_fixtures.py prints it).
 */
const TOLERANCE = 1e-4;
/** Gradients through batch-statistics BN of 4 frames are less well conditioned: float32 PyTorch reaches 1.4e-4. */
const GRADIENT_TOLERANCE = 1e-3;

function expectClose(actual: ArrayLike<number>, fixture: TorchFixture, key: string, tolerance = TOLERANCE): number {
  const expected = fixture.values(key);
  const scaled = scaledDifference(actual, expected);
  const elementwise = maxRelativeDifference(actual, expected, 1e-2 * Math.max(...expected.map(Math.abs)));
  expect(
    scaled,
    `${fixture.name} ${key}: relative ${scaled.toExponential(2)} (element-wise ${elementwise.toExponential(2)})`,
  ).toBeLessThan(tolerance);
  return scaled;
}

async function importedModel(fixture: TorchFixture): Promise<ReidModel> {
  const model = createReidModel(fixture.options);
  const report = await importTorchWeights(model, fixture.weightsPath, { format: 'vkd' });
  expect(report.missing).toEqual([]);
  expect(report.unexpected).toEqual([]);
  expect(report.loaded.length).toBe(model.weightSpecs().length);
  return model;
}

async function movingStatistics(model: ReidModel): Promise<Map<string, Float32Array>> {
  const names = model
    .weightSpecs()
    .filter((spec) => spec.name.endsWith('running_mean') || spec.name.endsWith('running_var'))
    .map((spec) => spec.name);
  const variables = new Map(
    model.weightSpecs().map((spec, index) => [spec.name, model.variables()[index] as tf.Variable]),
  );
  return new Map(
    await Promise.all(
      names.map(async (name) => [name, (await (variables.get(name) as tf.Variable).data()) as Float32Array] as const),
    ),
  );
}

// Tests in each block run in order on one imported model: eval and frozen-BN passes first (they must not change
// the model), the moving-statistics-updating train pass last.
describe.each(VARIANTS)('PyTorch parity of %s (cpu)', (name) => {
  let fixture: TorchFixture;
  let model: ReidModel;
  let input: tf.Tensor;
  beforeAll(async () => {
    await useBackend('cpu');
    fixture = await loadTorchFixture(name);
    model = await importedModel(fixture);
    input = tf.tensor(fixture.values('input'), fixture.shape('input'));
    return () => {
      model.dispose();
      input.dispose();
    };
  });

  it('eval mode: embeddings and logits match model.eval()', async () => {
    const { embeddings, logits } = model.forward(input, { training: false });
    expect(embeddings.shape).toEqual(fixture.shape('eval.embeddings'));
    expect(logits.shape).toEqual(fixture.shape('eval.logits'));
    expectClose(await embeddings.data(), fixture, 'eval.embeddings');
    expectClose(await logits.data(), fixture, 'eval.logits');
    tf.dispose([embeddings, logits]);
  });

  it("'batch-stats-frozen' (VKD teacher_mode) gives train-mode outputs and leaves moving statistics untouched", async () => {
    const before = await movingStatistics(model);
    const { embeddings, logits } = model.forward(input, { training: false, batchNorm: 'batch-stats-frozen' });
    expectClose(await embeddings.data(), fixture, 'train.embeddings');
    expectClose(await logits.data(), fixture, 'train.logits');
    const after = await movingStatistics(model);
    for (const [key, values] of before) expect(after.get(key), key).toEqual(values);
    tf.dispose([embeddings, logits]);
  });

  it('train mode: batch-statistics outputs and the moving-statistics update (momentum 0.1, unbiased) match model.train()', async () => {
    const { embeddings, logits } = model.forward(input, { training: true });
    expectClose(await embeddings.data(), fixture, 'train.embeddings');
    expectClose(await logits.data(), fixture, 'train.logits');
    const updated = await movingStatistics(model);
    const keys = Object.keys(fixture.entries).filter((entry) => entry.startsWith('after_train.'));
    expect(keys.length).toBe(updated.size);
    for (const key of keys) expectClose(updated.get(key.slice('after_train.'.length)) as Float32Array, fixture, key);
    tf.dispose([embeddings, logits]);
  });
});

describe('4-D input', () => {
  beforeAll(() => useBackend('cpu'));

  it('[N, H, W, 3] is N one-frame tracklets (VKD: unsqueeze(1))', async () => {
    const fixture = await loadTorchFixture('resnet18-w8');
    const model = await importedModel(fixture);
    const input = tf.tensor(fixture.values('single.input'), fixture.shape('single.input'));
    const { embeddings, logits } = model.forward(input, { training: false });
    expectClose(await embeddings.data(), fixture, 'single.embeddings');
    expectClose(await logits.data(), fixture, 'single.logits');
    tf.dispose([input, embeddings, logits]);
    model.dispose();
  });
});

describe.each(Object.keys(GRADIENT_COUNTS))('PyTorch gradient parity of %s (cpu)', (name) => {
  let fixture: TorchFixture;
  beforeAll(async () => {
    await useBackend('cpu');
    fixture = await loadTorchFixture(name);
  });

  it('train-mode gradients of Σ emb·S + Σ logits·R match PyTorch autograd', async () => {
    const model = await importedModel(fixture);
    const input = tf.tensor(fixture.values('grad.input'), fixture.shape('grad.input'));
    const embeddingWeights = tf.tensor(
      fixture.values('loss.embedding_weights'),
      fixture.shape('loss.embedding_weights'),
    );
    const logitWeights = tf.tensor(fixture.values('loss.logit_weights'), fixture.shape('loss.logit_weights'));
    const trainable = model.weightSpecs().filter((spec) => spec.trainable);
    const { grads, value } = tf.variableGrads(() => {
      const { embeddings, logits } = model.forward(input, { training: true });
      return tf.add(tf.sum(tf.mul(embeddings, embeddingWeights)), tf.sum(tf.mul(logits, logitWeights))) as tf.Scalar;
    }, model.trainableVariables());
    const gradByWeight = new Map(
      model.trainableVariables().map((variable, index) => [trainable[index]?.name, grads[variable.name]]),
    );
    const gradKeys = Object.keys(fixture.entries).filter((key) => key.startsWith('grad.') && key !== 'grad.input');
    expect(gradKeys.length).toBe(GRADIENT_COUNTS[name]);
    for (const key of gradKeys) {
      const spec = trainable.find((candidate) => candidate.name === key.slice('grad.'.length));
      if (!spec) throw new Error(`no trainable weight for ${key}`);
      const expected = toModelLayout(fixture.entries[key]!, spec);
      const actual = await (gradByWeight.get(spec.name) as tf.Tensor).data();
      expect(scaledDifference(actual, expected), `${name} ${key}`).toBeLessThan(GRADIENT_TOLERANCE);
    }
    tf.dispose([input, embeddingWeights, logitWeights, value, ...Object.values(grads)]);
    model.dispose();
  });
});
