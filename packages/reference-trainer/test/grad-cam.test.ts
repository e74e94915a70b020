import * as tf from '@tensorflow/tfjs-core';
import { createReidModel, type ReidModel } from '@vkd/models';
import { expectNoLeak, useBackend } from '@vkd/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gradCam } from '../src/report/grad-cam';

let model: ReidModel;

beforeAll(async () => {
  await useBackend('cpu');
  model = createReidModel({ backbone: 'resnet18', numIdentities: 5, baseWidth: 4, seed: 3 });
  // Give the head non-trivial BN statistics and classifier weights so the check below is not degenerate.
  const weights = model.getWeights();
  const set: Record<string, tf.Tensor> = {};
  for (const [name, value] of Object.entries(weights)) {
    if (name === 'classifier.classifier.weight') set[name] = tf.randomNormal(value.shape, 0, 0.5, 'float32', 7);
    if (name === 'classifier.bottleneck.running_mean') set[name] = tf.randomNormal(value.shape, 0, 0.1, 'float32', 8);
    if (name === 'classifier.bottleneck.running_var') set[name] = tf.randomUniform(value.shape, 0.5, 2, 'float32', 9);
    if (name === 'classifier.bottleneck.weight') set[name] = tf.randomUniform(value.shape, 0.5, 1.5, 'float32', 10);
  }
  model.setWeights(set);
  tf.dispose([...Object.values(weights), ...Object.values(set)]);
});

afterAll(() => model.dispose());

/**
 * Independent reference: in eval mode logit_k = Σ_c W[c,k]·γ_c·(mean_hw F_c − μ_c)/√(σ²_c+ε) + …, so
 * ∂logit_k/∂F[i,j,c] = W[c,k]·γ_c/(√(σ²_c+ε)·h·w) and the Grad-CAM weight α_c equals it (already constant over i, j).
 */
async function referenceCam(frames: tf.Tensor4D, classes: Int32Array): Promise<Float32Array> {
  const [count, height, width] = frames.shape;
  const output = model.forward(frames, { training: false, returnFeatureMaps: true });
  const weights = model.getWeights();
  const [features, classifier, gamma, variance] = await Promise.all([
    (output.featureMaps as tf.Tensor4D).data(),
    (weights['classifier.classifier.weight'] as tf.Tensor).data(),
    (weights['classifier.bottleneck.weight'] as tf.Tensor).data(),
    (weights['classifier.bottleneck.running_var'] as tf.Tensor).data(),
  ]);
  const [, h, w, channels] = (output.featureMaps as tf.Tensor4D).shape;
  const identities = (weights['classifier.classifier.weight'] as tf.Tensor).shape[1] as number;
  tf.dispose([output.embeddings, output.logits, output.featureMaps as tf.Tensor, ...Object.values(weights)]);
  const cams = new Float32Array(count * h * w);
  for (let n = 0; n < count; n++) {
    const k = classes[n] as number;
    for (let p = 0; p < h * w; p++) {
      let sum = 0;
      for (let c = 0; c < channels; c++) {
        const alpha =
          ((classifier[c * identities + k] as number) * (gamma[c] as number)) /
          (Math.sqrt((variance[c] as number) + 1e-5) * h * w);
        sum += alpha * (features[(n * h * w + p) * channels + c] as number);
      }
      cams[n * h * w + p] = Math.max(0, sum);
    }
  }
  const resized = tf.tidy(() => {
    const up = tf.image.resizeBilinear(tf.tensor4d(cams, [count, h, w, 1]), [height, width]);
    return tf.div(up, tf.maximum(tf.max(up, [1, 2, 3], true), 1e-12));
  });
  const data = (await resized.data()) as Float32Array;
  resized.dispose();
  return data;
}

describe('gradCam', () => {
  it('matches the closed-form Grad-CAM of the BNNeck head, without leaking tensors', async () => {
    const frames = tf.randomNormal([3, 32, 16, 3], 0, 1, 'float32', 11) as tf.Tensor4D;
    const result = await expectNoLeak(() => gradCam(model, frames));
    expect(result.count).toBe(3);
    expect(result.maps.length).toBe(3 * 32 * 16);
    expect(result.headError).toBeLessThan(1e-4); // the rebuilt head reproduces the model's logits
    const logits = model.forward(frames, { training: false }).logits;
    const top = tf.argMax(logits, 1);
    expect(Array.from(result.classes)).toEqual(Array.from(await top.data()));
    tf.dispose([logits, top]);
    const reference = await referenceCam(frames, result.classes);
    let worst = 0;
    for (let i = 0; i < reference.length; i++)
      worst = Math.max(worst, Math.abs((result.maps[i] as number) - (reference[i] as number)));
    expect(worst).toBeLessThan(1e-4);
    expect(Math.max(...result.maps)).toBeCloseTo(1, 5); // each map is scaled to [0, 1]
    expect(Math.min(...result.maps)).toBeGreaterThanOrEqual(0);
    frames.dispose();
  });
});
