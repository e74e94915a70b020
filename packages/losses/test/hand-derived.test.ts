import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '@vkd/testing';
import type { TestBackend } from '@vkd/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  batchHardTriplet,
  crossEntropy,
  distancePreserving,
  euclideanDistances,
  logitDistillation,
  logitMatching,
  squaredEuclideanDistances,
  teacherObjective,
  vkdObjective,
} from '../src/index';

const softplus = (z: number) => Math.log1p(Math.exp(z));
const float = (values: number[][]) => tf.tensor2d(values, undefined, 'float32');
const labels = (values: number[]) => tf.tensor1d(values, 'int32');

async function scalarOf(fn: () => tf.Scalar): Promise<number> {
  const result = fn();
  const [value] = await result.data();
  result.dispose();
  return value!;
}

async function gradientOf(fn: (x: tf.Tensor) => tf.Scalar, x: tf.Tensor): Promise<number[]> {
  const gradient = tf.grad(fn)(x);
  const values = Array.from(await gradient.data());
  gradient.dispose();
  return values;
}

describe.each<TestBackend>(['cpu', 'wasm'])('hand-derived values on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it('crossEntropy: −log softmax of the label, label smoothing mixes in ε/I', async () => {
    const logits = float([
      [0, 0],
      [Math.log(3), 0],
    ]);
    const y = labels([0, 1]);
    // sample 0: p = [1/2, 1/2] → log 2; sample 1: p = [3/4, 1/4], label 1 → log 4.
    expect(await scalarOf(() => crossEntropy(logits, y))).toBeCloseTo((Math.log(2) + Math.log(4)) / 2, 6);
    // ε = 0.5, I = 2: targets [0.75, 0.25] and [0.25, 0.75].
    const smoothed =
      (-(0.75 * Math.log(0.5) + 0.25 * Math.log(0.5)) - (0.25 * Math.log(0.75) + 0.75 * Math.log(0.25))) / 2;
    expect(await scalarOf(() => crossEntropy(logits, y, { labelSmoothing: 0.5 }))).toBeCloseTo(smoothed, 6);
    // d/dz = (softmax − target)/B.
    const gradient = await gradientOf((z) => crossEntropy(z, y), logits);
    [(0.5 - 1) / 2, 0.5 / 2, 0.75 / 2, (0.25 - 1) / 2].forEach((expected, index) =>
      expect(gradient[index]).toBeCloseTo(expected, 6),
    );
    tf.dispose([logits, y]);
  });

  it('crossEntropy: a single class gives 0; a label outside [0, I) makes the loss NaN', async () => {
    const y = labels([0, 0]);
    expect(await scalarOf(() => crossEntropy(float([[3], [-2]]), y))).toBe(0);
    const logits = float([
      [1, 2],
      [0, 0],
    ]);
    expect(await scalarOf(() => crossEntropy(logits, labels([0, 2])))).toBeNaN();
    expect(await scalarOf(() => crossEntropy(logits, labels([-1, 1])))).toBeNaN();
    tf.dispose([y, logits]);
  });

  it('batchHardTriplet: hardest positive / negative on 1-D points, soft and hinge margins', async () => {
    // Points 0, 1 (identity 0) and 3, 7 (identity 1). Per anchor (d+, d−): (1, 3), (1, 2), (4, 2), (4, 6).
    const x = float([[0], [1], [3], [7]]);
    const y = labels([0, 0, 1, 1]);
    const z = [1 - 3, 1 - 2, 4 - 2, 4 - 6];
    expect(await scalarOf(() => batchHardTriplet(x, y))).toBeCloseTo(z.map(softplus).reduce((a, b) => a + b) / 4, 6);
    // Hinge m = 1: anchor 2 gives (d(2,3) − d(2,1) + 1)/4 = 3/4; anchor 1 sits exactly on the margin (z + m = 0).
    expect(await scalarOf(() => batchHardTriplet(x, y, { margin: 1 }))).toBeCloseTo(3 / 4, 6);
    // Like torch.clamp(min=0), the gradient passes at z + m = 0: anchor 1 adds ((x1 − x0) − (x2 − x1))/4.
    const gradient = await gradientOf((e) => batchHardTriplet(e, y, { margin: 1 }), x);
    [-0.25, 0.75, -0.75, 0.25].forEach((expected, index) => expect(gradient[index]).toBeCloseTo(expected, 6));
    tf.dispose([x, y]);
  });

  it('batchHardTriplet: an anchor without positive uses d+ = 0; without negative the loss is 0', async () => {
    const x = float([[0], [2]]);
    expect(await scalarOf(() => batchHardTriplet(x, labels([0, 1])))).toBeCloseTo(softplus(-2), 6);
    // Gradient of softplus(−|x0 − x1|) averaged over both anchors: only the negatives pull.
    const gradient = await gradientOf((e) => batchHardTriplet(e, labels([0, 1])), x);
    const weight = 1 / (1 + Math.exp(2)); // sigmoid(−2)
    expect(gradient[0]).toBeCloseTo(weight, 6); // both anchors push x0 down, i.e. the loss grows with x0
    expect(gradient[1]).toBeCloseTo(-weight, 6);
    expect(await scalarOf(() => batchHardTriplet(x, labels([4, 4])))).toBe(0);
    tf.dispose(x);
  });

  it('batchHardTriplet: the hardest positive of anchor 0 is the farther of two near-tied positives', async () => {
    // Anchor 0 at the origin: positives at 1 and 1.001, negative at 5. Loss of anchor 0 uses d+ = 1.001.
    const x = float([
      [0, 0],
      [1, 0],
      [0, 1.001],
      [5, 0],
    ]);
    const y = labels([0, 0, 0, 1]);
    const distance = (a: number[], b: number[]) => Math.hypot(a[0]! - b[0]!, a[1]! - b[1]!);
    const points = [
      [0, 0],
      [1, 0],
      [0, 1.001],
      [5, 0],
    ];
    const anchors = [0, 1, 2].map((i) => {
      const positives = [0, 1, 2].filter((j) => j !== i).map((j) => distance(points[i]!, points[j]!));
      return softplus(Math.max(...positives) - distance(points[i]!, points[3]!));
    });
    const anchor3 = softplus(-Math.min(...[0, 1, 2].map((j) => distance(points[3]!, points[j]!)))); // no positive
    expect(await scalarOf(() => batchHardTriplet(x, y))).toBeCloseTo(
      (anchors.reduce((a, b) => a + b) + anchor3) / 4,
      6,
    );
    tf.dispose([x, y]);
  });

  it('euclidean and squared distances keep the authors ε only under the square root', async () => {
    const x = float([
      [0, 0],
      [3, 4],
    ]);
    const squared = squaredEuclideanDistances(x as tf.Tensor2D);
    const plain = euclideanDistances(x as tf.Tensor2D);
    expect(Array.from(await squared.data())).toEqual([0, 25, 25, 0]);
    const values = Array.from(await plain.data());
    expect(values[0]).toBeCloseTo(1e-6, 12);
    expect(values[1]).toBeCloseTo(5, 6);
    tf.dispose([x, squared, plain]);
  });

  it('distance gradients are exact, with a large diagonal term and a large common offset', async () => {
    // d/dx_i Σ_jk d_jk = 2 Σ_k sign(x_i − x_k) for 1-D points; the diagonal (sqrt at ε, slope 5e5) contributes 0.
    for (const offset of [0, 1000]) {
      const x = float([[offset], [offset + 1], [offset + 3]]);
      const gradient = await gradientOf((e) => tf.sum(euclideanDistances(e as tf.Tensor2D)) as tf.Scalar, x);
      [-4, 0, 4].forEach((expected, index) => expect(gradient[index]).toBeCloseTo(expected, 4));
      // Σ_jk D_jk = Σ_jk (x_j − x_k)²: d/dx_i = 4 Σ_k (x_i − x_k) → [−16, −4, 20].
      const squared = await gradientOf((e) => tf.sum(squaredEuclideanDistances(e as tf.Tensor2D)) as tf.Scalar, x);
      [-16, -4, 20].forEach((expected, index) => expect(squared[index]).toBeCloseTo(expected, 3));
      x.dispose();
    }
  });

  it('logitDistillation: τ²·batch-mean KL(p_T ‖ p_S)', async () => {
    const teacher = float([[0, 0]]);
    // τ = 1: p_T = [1/2, 1/2], p_S = [3/4, 1/4] → KL = ½ log(2/3) + ½ log 2 = ½ log(4/3).
    expect(await scalarOf(() => logitDistillation(teacher, float([[Math.log(3), 0]]), { temperature: 1 }))).toBeCloseTo(
      0.5 * Math.log(4 / 3),
      6,
    );
    // τ = 2 with logits doubled: the same distributions, scaled by τ² = 4.
    expect(
      await scalarOf(() => logitDistillation(teacher, float([[2 * Math.log(3), 0]]), { temperature: 2 })),
    ).toBeCloseTo(2 * Math.log(4 / 3), 5);
    // Direction: KL(p_T ‖ p_S) ≠ KL(p_S ‖ p_T) = ¾ log(3/2) + ¼ log(1/2).
    expect(await scalarOf(() => logitDistillation(float([[Math.log(3), 0]]), teacher, { temperature: 1 }))).toBeCloseTo(
      0.75 * Math.log(1.5) + 0.25 * Math.log(0.5),
      6,
    );
    // Gradient w.r.t. the student: τ·(p_S − p_T)/B; default τ = 10, identical logits → 0.
    const student = float([[Math.log(3), 0]]);
    const gradient = await gradientOf((s) => logitDistillation(teacher, s, { temperature: 1 }), student);
    expect(gradient[0]).toBeCloseTo(0.25, 6);
    expect(gradient[1]).toBeCloseTo(-0.25, 6);
    expect(await scalarOf(() => logitDistillation(student, student))).toBeCloseTo(0, 6);
    tf.dispose([teacher, student]);
  });

  it('logitMatching: mean squared logit difference', async () => {
    expect(await scalarOf(() => logitMatching(float([[1, 2]]), float([[2, 0]])))).toBeCloseTo(2.5, 6);
  });

  it('distancePreserving: 0.5·mean over B×B of squared-distance differences', async () => {
    const teacher = float([[0], [1]]);
    const student = float([[0], [2]]);
    // D_T = [[0,1],[1,0]], D_S = [[0,4],[4,0]] → 0.5·(9 + 9)/4 = 2.25 (plain distances would give 0.25).
    expect(await scalarOf(() => distancePreserving(teacher, student))).toBeCloseTo(2.25, 6);
    // L = (u − 1)²/4 with u = (s1 − s0)²: dL/ds1 = (u − 1)·(s1 − s0) = 6.
    const gradient = await gradientOf((s) => distancePreserving(teacher, s), student);
    expect(gradient).toEqual([-6, 6]);
    // Different embedding sizes are fine: only the distances are compared.
    const wide = float([
      [0, 0, 0],
      [0, 0, 1],
    ]);
    expect(await scalarOf(() => distancePreserving(wide, teacher))).toBe(0);
    tf.dispose([teacher, student, wide]);
  });

  it('teacherObjective and vkdObjective: weighted sums of the unweighted terms', async () => {
    const embeddings = float([
      [0, 1],
      [1, 1],
      [3, 0],
      [7, 2],
    ]);
    const logits = float([
      [1, 0, 0],
      [0, 2, 1],
      [0, 0, 1],
      [1, 1, 1],
    ]);
    const y = labels([0, 0, 1, 1]);
    const teacher = {
      embeddings: float([
        [0, 0, 1],
        [1, 2, 1],
        [3, 1, 0],
        [6, 2, 2],
      ]),
      logits: float([
        [2, 0, 0],
        [0, 3, 1],
        [1, 0, 2],
        [0, 1, 1],
      ]),
    };
    const student = { embeddings, logits };

    const teacherResult = teacherObjective({ embeddings, logits, labels: y });
    const [ce, tr, total] = await Promise.all([
      teacherResult.terms.crossEntropy.data(),
      teacherResult.terms.triplet.data(),
      teacherResult.total.data(),
    ]);
    expect(ce[0]).toBeCloseTo(await scalarOf(() => crossEntropy(logits, y)), 6);
    expect(tr[0]).toBeCloseTo(await scalarOf(() => batchHardTriplet(embeddings, y)), 6);
    expect(total[0]).toBeCloseTo(ce[0]! + tr[0]!, 6);
    tf.dispose([teacherResult.total, ...Object.values(teacherResult.terms)]);

    const weights = { kdWeight: 0.5, dpWeight: 0.01, temperature: 3 };
    const result = vkdObjective({ teacher, student, labels: y }, weights);
    const terms = Object.fromEntries(
      await Promise.all(Object.entries(result.terms).map(async ([k, v]) => [k, (await v.data())[0]!] as const)),
    );
    expect(terms.logitDistillation).toBeCloseTo(
      await scalarOf(() => logitDistillation(teacher.logits, logits, { temperature: 3 })),
      5,
    );
    expect(terms.distancePreserving).toBeCloseTo(
      await scalarOf(() => distancePreserving(teacher.embeddings, embeddings)),
      4,
    );
    expect(terms.crossEntropy).toBeCloseTo(ce[0]!, 6);
    expect(terms.triplet).toBeCloseTo(tr[0]!, 6);
    const expectedTotal =
      terms.crossEntropy! + terms.triplet! + 0.5 * terms.logitDistillation! + 0.01 * terms.distancePreserving!;
    expect((await result.total.data())[0]).toBeCloseTo(expectedTotal, 5);
    tf.dispose([result.total, ...Object.values(result.terms)]);

    // Authors' defaults: kdWeight 0.1, dpWeight 1e-4, τ 10; 'mse' swaps the KD term for logit matching (still
    // weighted by kdWeight).
    const defaults = vkdObjective({ teacher, student, labels: y });
    const mse = vkdObjective({ teacher, student, labels: y }, { logitsDistance: 'mse' });
    const [kdDefault, dpDefault, totalDefault] = await Promise.all([
      defaults.terms.logitDistillation.data(),
      defaults.terms.distancePreserving.data(),
      defaults.total.data(),
    ]);
    expect(kdDefault[0]).toBeCloseTo(
      await scalarOf(() => logitDistillation(teacher.logits, logits, { temperature: 10 })),
      5,
    );
    expect(totalDefault[0]).toBeCloseTo(ce[0]! + tr[0]! + 0.1 * kdDefault[0]! + 1e-4 * dpDefault[0]!, 5);
    expect((await mse.terms.logitDistillation.data())[0]).toBeCloseTo(
      await scalarOf(() => logitMatching(teacher.logits, logits)),
      6,
    );
    tf.dispose([defaults, mse].flatMap((r) => [r.total, ...Object.values(r.terms)]));
    tf.dispose([embeddings, logits, y, teacher.embeddings, teacher.logits]);
  });
});
