import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeak, useBackend } from '@vkd/testing';
import { createReidModel, importTorchWeights } from '@vkd/models';
import { loadTorchFixture, scaledDifference } from './torch-fixtures';

describe('forward on the wasm backend', () => {
  beforeAll(() => useBackend('wasm'));

  const variants = ['resnet18-w8', 'resnet50bam-w8', 'densenet121-w8', 'mobilenet-w16'];
  it.each(variants)('%s matches PyTorch in eval and batch-statistics modes', async (name) => {
    const fixture = await loadTorchFixture(name);
    const model = createReidModel(fixture.options);
    await importTorchWeights(model, fixture.weightsPath);
    const input = tf.tensor(fixture.values('input'), fixture.shape('input'));
    for (const [options, prefix] of [
      [{ training: false }, 'eval'],
      [{ training: false, batchNorm: 'batch-stats-frozen' as const }, 'train'],
    ] as const) {
      const { embeddings, logits } = await expectNoLeak(async () => {
        const output = model.forward(input, options);
        return { embeddings: await output.embeddings.data(), logits: await output.logits.data(), tensors: output };
      });
      expect(
        scaledDifference(embeddings, fixture.values(`${prefix}.embeddings`)),
        `${name} ${prefix} embeddings`,
      ).toBeLessThan(1e-4);
      expect(scaledDifference(logits, fixture.values(`${prefix}.logits`)), `${name} ${prefix} logits`).toBeLessThan(
        1e-4,
      );
    }
    input.dispose();
    model.dispose();
  });
});
