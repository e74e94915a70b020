import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '@vkd/testing';
import type { TestBackend } from '@vkd/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  batchHardTriplet,
  crossEntropy,
  distancePreserving,
  logitDistillation,
  logitMatching,
  teacherObjective,
  vkdObjective,
} from '../src/index';
import type { TripletMargin } from '../src/index';
import { allCloseRatio, fixtureTensors, loadFixture } from './fixtures';

/** Relative tolerance of the PyTorch parity checks (float32 here vs a float64 reference). */
const TOLERANCE = 1e-5;
/** Gradients: plus 1e-6 × the largest reference entry, the float32 rounding of sums at that scale (see allCloseRatio). */
const GRADIENT_ABSOLUTE_SCALE = 1e-6;

type LossOf = (inputs: Record<string, tf.Tensor>, options: Record<string, number | string>) => tf.Scalar;

const tripletLoss: LossOf = (inputs, options) =>
  batchHardTriplet(inputs.embeddings!, inputs.labels!, { margin: options.margin as TripletMargin });

const cases: Array<[string, LossOf]> = [
  ['triplet-soft-pk', tripletLoss],
  ['triplet-hinge-pk', tripletLoss],
  ['triplet-hinge-boundary', tripletLoss],
  ['triplet-soft-large-gap', tripletLoss],
  ['triplet-near-ties', tripletLoss],
  ['triplet-exact-ties', tripletLoss],
  ['triplet-no-positive', tripletLoss],
  ['triplet-no-negative', tripletLoss],
  ['triplet-single', tripletLoss],
  [
    'cross-entropy',
    (inputs, options) =>
      crossEntropy(inputs.logits!, inputs.labels!, { labelSmoothing: options.labelSmoothing as number }),
  ],
  [
    'cross-entropy-smoothed',
    (inputs, options) =>
      crossEntropy(inputs.logits!, inputs.labels!, { labelSmoothing: options.labelSmoothing as number }),
  ],
  [
    'logit-distillation-t10',
    (inputs, options) =>
      logitDistillation(inputs.teacherLogits!, inputs.studentLogits!, { temperature: options.temperature as number }),
  ],
  [
    'logit-distillation-t2',
    (inputs, options) =>
      logitDistillation(inputs.teacherLogits!, inputs.studentLogits!, { temperature: options.temperature as number }),
  ],
  ['logit-matching', (inputs) => logitMatching(inputs.teacherLogits!, inputs.studentLogits!)],
  ['distance-preserving', (inputs) => distancePreserving(inputs.teacherEmbeddings!, inputs.studentEmbeddings!)],
  [
    'teacher-objective',
    (inputs) =>
      teacherObjective({ embeddings: inputs.embeddings!, logits: inputs.logits!, labels: inputs.labels! }).total,
  ],
  [
    'vkd-objective',
    (inputs, options) =>
      vkdObjective(
        {
          teacher: { embeddings: inputs.teacherEmbeddings!, logits: inputs.teacherLogits! },
          student: { embeddings: inputs.studentEmbeddings!, logits: inputs.studentLogits! },
          labels: inputs.labels!,
        },
        { kdWeight: options.kd as number, dpWeight: options.dp as number, temperature: options.temperature as number },
      ).total,
  ],
];

/** |a − b| ≤ TOLERANCE·|b| for a scalar, with an absolute floor for references that are exactly 0. */
function expectClose(actual: number, expected: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(TOLERANCE * Math.max(Math.abs(expected), 1e-6));
}

describe.each<TestBackend>(['cpu', 'wasm'])('PyTorch parity on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it.each(cases)('%s: value and gradients', async (name, loss) => {
    const fixture = loadFixture(name);
    const inputs = fixtureTensors(fixture);
    const gradientKeys = Object.keys(fixture.expected.gradients);
    const { value, grads } = tf.valueAndGrads((...xs: tf.Tensor[]) => {
      const replaced = { ...inputs };
      gradientKeys.forEach((key, index) => (replaced[key] = xs[index]!));
      return loss(replaced, fixture.options);
    })(gradientKeys.map((key) => inputs[key]!));
    expectClose((await value.data())[0]!, fixture.expected.value);
    for (const [index, key] of gradientKeys.entries()) {
      const expected = fixture.expected.gradients[key]!;
      expect(grads[index]!.shape).toEqual(expected.shape);
      const ratio = allCloseRatio(await grads[index]!.data(), expected.data, TOLERANCE, GRADIENT_ABSOLUTE_SCALE);
      expect(ratio, `${name} d/d${key}`).toBeLessThanOrEqual(1);
    }
    tf.dispose([value, ...grads, ...Object.values(inputs)]);
  });

  it.each(['teacher-objective', 'vkd-objective'])('%s: every term matches', async (name) => {
    const fixture = loadFixture(name);
    const inputs = fixtureTensors(fixture);
    const result =
      name === 'teacher-objective'
        ? teacherObjective({ embeddings: inputs.embeddings!, logits: inputs.logits!, labels: inputs.labels! })
        : vkdObjective({
            teacher: { embeddings: inputs.teacherEmbeddings!, logits: inputs.teacherLogits! },
            student: { embeddings: inputs.studentEmbeddings!, logits: inputs.studentLogits! },
            labels: inputs.labels!,
          });
    const terms = result.terms as Record<string, tf.Scalar>;
    expect(Object.keys(terms).sort()).toEqual(Object.keys(fixture.expected.terms!).sort());
    for (const [key, expected] of Object.entries(fixture.expected.terms!))
      expectClose((await terms[key]!.data())[0]!, expected);
    expectClose((await result.total.data())[0]!, fixture.expected.value);
    tf.dispose([result.total, ...Object.values(terms), ...Object.values(inputs)]);
  });
});
