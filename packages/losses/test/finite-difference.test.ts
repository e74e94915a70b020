import * as tf from '@tensorflow/tfjs-core';
import { createRandom } from '@vkd/core';
import { useBackend } from '@vkd/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  batchHardTriplet,
  crossEntropy,
  distancePreserving,
  logitDistillation,
  logitMatching,
  vkdObjective,
} from '../src/index';

/**
 * Central finite differences in float32: step h = 1e-2 keeps the rounding error of the loss (~1e-7·|L|/h) well
 * below the tolerance, and the O(h²) truncation error is small for these smooth losses. Tolerance: 2e-3 of the
 * gradient's largest entry.
 */
const STEP = 1e-2;
const TOLERANCE = 2e-3;

function randomMatrix(seed: number, rows: number, columns: number, scale = 1): tf.Tensor2D {
  const random = createRandom(seed);
  return tf.tensor2d(
    Array.from({ length: rows * columns }, () => random.normal() * scale),
    [rows, columns],
    'float32',
  );
}

async function checkGradient(name: string, loss: (x: tf.Tensor) => tf.Scalar, x: tf.Tensor): Promise<void> {
  const analytic = tf.grad(loss)(x);
  const analyticValues = await analytic.data();
  const base = await x.data();
  const numeric: number[] = [];
  for (let index = 0; index < base.length; index++) {
    const evaluate = async (offset: number) => {
      const shifted = Float32Array.from(base);
      shifted[index]! += offset;
      const input = tf.tensor(shifted, x.shape, 'float32');
      const value = tf.tidy(() => loss(input)); // tidy: objectives also return terms
      const [result] = await value.data();
      tf.dispose([input, value]);
      return result!;
    };
    numeric.push(((await evaluate(STEP)) - (await evaluate(-STEP))) / (2 * STEP));
  }
  const scale = Math.max(...numeric.map(Math.abs));
  expect(scale, `${name}: gradient must not vanish`).toBeGreaterThan(1e-3);
  const worst = Math.max(...numeric.map((value, index) => Math.abs(value - analyticValues[index]!)));
  expect(worst / scale, name).toBeLessThan(TOLERANCE);
  analytic.dispose();
}

describe('finite-difference gradient checks (cpu)', () => {
  beforeAll(() => useBackend('cpu'));

  it('crossEntropy w.r.t. logits, with and without label smoothing', async () => {
    const logits = randomMatrix(1, 4, 5, 2);
    const labels = tf.tensor1d([0, 4, 2, 2], 'int32');
    await checkGradient('crossEntropy', (x) => crossEntropy(x, labels), logits);
    await checkGradient('crossEntropy smoothed', (x) => crossEntropy(x, labels, { labelSmoothing: 0.2 }), logits);
    tf.dispose([logits, labels]);
  });

  it('batchHardTriplet w.r.t. embeddings (soft margin, and hinge)', async () => {
    // P = 3, K = 2, well spread points: the mined pairs do not change within ±h.
    const embeddings = randomMatrix(2, 6, 3, 2);
    const labels = tf.tensor1d([0, 0, 1, 1, 2, 2], 'int32');
    await checkGradient('triplet soft', (x) => batchHardTriplet(x, labels), embeddings);
    await checkGradient('triplet hinge', (x) => batchHardTriplet(x, labels, { margin: 5 }), embeddings);
    tf.dispose([embeddings, labels]);
  });

  it('logitDistillation and logitMatching w.r.t. the student logits', async () => {
    const teacher = randomMatrix(3, 3, 4, 4);
    const student = randomMatrix(4, 3, 4, 4);
    await checkGradient('logitDistillation τ=2', (x) => logitDistillation(teacher, x, { temperature: 2 }), student);
    await checkGradient('logitDistillation τ=10', (x) => logitDistillation(teacher, x), student);
    await checkGradient('logitMatching', (x) => logitMatching(teacher, x), student);
    tf.dispose([teacher, student]);
  });

  it('distancePreserving w.r.t. the student embeddings', async () => {
    const teacher = randomMatrix(5, 4, 6);
    const student = randomMatrix(6, 4, 3);
    await checkGradient('distancePreserving', (x) => distancePreserving(teacher, x), student);
    tf.dispose([teacher, student]);
  });

  it('vkdObjective total w.r.t. the student logits and embeddings', async () => {
    const teacher = { embeddings: randomMatrix(7, 4, 5), logits: randomMatrix(8, 4, 3, 3) };
    const studentEmbeddings = randomMatrix(9, 4, 3, 2);
    const studentLogits = randomMatrix(10, 4, 3, 2);
    const labels = tf.tensor1d([0, 0, 1, 1], 'int32');
    const weights = { kdWeight: 0.5, dpWeight: 0.1 };
    await checkGradient(
      'vkd d/dlogits',
      (x) => vkdObjective({ teacher, student: { embeddings: studentEmbeddings, logits: x }, labels }, weights).total,
      studentLogits,
    );
    await checkGradient(
      'vkd d/dembeddings',
      (x) => vkdObjective({ teacher, student: { embeddings: x, logits: studentLogits }, labels }, weights).total,
      studentEmbeddings,
    );
    tf.dispose([teacher.embeddings, teacher.logits, studentEmbeddings, studentLogits, labels]);
  });
});
