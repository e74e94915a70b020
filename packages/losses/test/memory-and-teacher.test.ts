import * as tf from '@tensorflow/tfjs-core';
import { expectNoLeak, useBackend } from '@vkd/testing';
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
  stopGradient,
  teacherObjective,
  vkdObjective,
} from '../src/index';

function batch() {
  return {
    teacherEmbeddings: tf.tensor2d([
      [0, 1, 2],
      [1, 1, 0],
      [3, 0, 1],
      [2, 2, 2],
    ]),
    teacherLogits: tf.tensor2d([
      [2, 0, 1],
      [0, 3, 1],
      [1, 0, 2],
      [0, 1, 1],
    ]),
    studentEmbeddings: tf.tensor2d([
      [0, 1],
      [1, 2],
      [3, 0],
      [7, 1],
    ]),
    studentLogits: tf.tensor2d([
      [1, 0, 0],
      [0, 2, 1],
      [0, 0, 1],
      [1, 1, 1],
    ]),
    labels: tf.tensor1d([0, 0, 1, 1], 'int32'),
  };
}

describe.each<TestBackend>(['cpu', 'wasm'])('memory and gradient isolation on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it('no public function leaks tensors (only its returned scalars stay alive)', async () => {
    const b = batch();
    const teacher = { embeddings: b.teacherEmbeddings, logits: b.teacherLogits };
    const student = { embeddings: b.studentEmbeddings, logits: b.studentLogits };
    await expectNoLeak(() => crossEntropy(b.studentLogits, b.labels, { labelSmoothing: 0.1 }));
    await expectNoLeak(() => batchHardTriplet(b.studentEmbeddings, b.labels));
    await expectNoLeak(() => batchHardTriplet(b.studentEmbeddings, b.labels, { margin: 0.3 }));
    await expectNoLeak(() => logitDistillation(b.teacherLogits, b.studentLogits));
    await expectNoLeak(() => logitMatching(b.teacherLogits, b.studentLogits));
    await expectNoLeak(() => distancePreserving(b.teacherEmbeddings, b.studentEmbeddings));
    await expectNoLeak(() => squaredEuclideanDistances(b.studentEmbeddings));
    await expectNoLeak(() => euclideanDistances(b.studentEmbeddings));
    await expectNoLeak(() => stopGradient(b.teacherLogits));
    const teacherResult = await expectNoLeak(() =>
      teacherObjective({ embeddings: b.studentEmbeddings, logits: b.studentLogits, labels: b.labels }),
    );
    expect(Object.keys(teacherResult.terms).sort()).toEqual(['crossEntropy', 'triplet']);
    const vkdResult = await expectNoLeak(() => vkdObjective({ teacher, student, labels: b.labels }));
    expect(Object.keys(vkdResult.terms).sort()).toEqual([
      'crossEntropy',
      'distancePreserving',
      'logitDistillation',
      'triplet',
    ]);
    tf.dispose(Object.values(b));
  });

  it('a training step with tf.variableGrads leaks nothing and the documented tf.keep pattern keeps the terms', async () => {
    const b = batch();
    const studentEmbeddings = tf.variable(b.studentEmbeddings, true, `leak-student-embeddings-${backend}`);
    const before = tf.memory().numTensors;
    for (let step = 0; step < 3; step++) {
      let kept: tf.Scalar[] = [];
      const { value, grads } = tf.variableGrads(() => {
        const { total, terms } = vkdObjective({
          teacher: { embeddings: b.teacherEmbeddings, logits: b.teacherLogits },
          student: { embeddings: studentEmbeddings, logits: b.studentLogits },
          labels: b.labels,
        });
        kept = Object.values(terms).map((term) => tf.keep(term));
        return total;
      }, [studentEmbeddings]);
      for (const term of kept) expect(Number.isFinite((await term.data())[0])).toBe(true);
      tf.dispose([value, ...Object.values(grads), ...kept]);
    }
    expect(tf.memory().numTensors).toBe(before);
    studentEmbeddings.dispose();
    tf.dispose(Object.values(b));
  });

  it('the teacher gets no gradient: its variables are absent from variableGrads even when listed', async () => {
    const b = batch();
    const suffix = `${backend}-${Math.random()}`;
    const teacherEmbeddings = tf.variable(b.teacherEmbeddings, true, `teacher-embeddings-${suffix}`);
    const teacherLogits = tf.variable(b.teacherLogits, true, `teacher-logits-${suffix}`);
    const studentEmbeddings = tf.variable(b.studentEmbeddings, true, `student-embeddings-${suffix}`);
    const studentLogits = tf.variable(b.studentLogits, true, `student-logits-${suffix}`);
    const { value, grads } = tf.variableGrads(
      () =>
        vkdObjective({
          teacher: { embeddings: teacherEmbeddings, logits: teacherLogits },
          student: { embeddings: studentEmbeddings, logits: studentLogits },
          labels: b.labels,
        }).total,
      [teacherEmbeddings, teacherLogits, studentEmbeddings, studentLogits],
    );
    expect(Object.keys(grads).sort()).toEqual([studentEmbeddings.name, studentLogits.name].sort());
    tf.dispose([value, ...Object.values(grads)]);
    // The same holds for each distillation term alone.
    for (const loss of [
      () => logitDistillation(teacherLogits, studentLogits),
      () => logitMatching(teacherLogits, studentLogits),
      () => distancePreserving(teacherEmbeddings, studentEmbeddings),
    ]) {
      const result = tf.variableGrads(loss, [teacherEmbeddings, teacherLogits, studentEmbeddings, studentLogits]);
      expect(Object.keys(result.grads).some((name) => name.startsWith('teacher'))).toBe(false);
      expect(Object.keys(result.grads)).toHaveLength(1);
      tf.dispose([result.value, ...Object.values(result.grads)]);
    }
    // A loss that depends on the teacher only through the distillation terms has nothing to differentiate.
    expect(() => tf.grad((t: tf.Tensor) => logitDistillation(t, b.studentLogits))(b.teacherLogits)).toThrow(
      /Cannot compute gradient/,
    );
    tf.dispose([teacherEmbeddings, teacherLogits, studentEmbeddings, studentLogits, ...Object.values(b)]);
  });

  it('stopGradient keeps values and cuts only its own path', async () => {
    const x = tf.tensor1d([1, 2, 3]);
    const gradient = tf.grad((input: tf.Tensor) => tf.sum(tf.mul(stopGradient(input), input)))(x);
    expect(Array.from(await gradient.data())).toEqual([1, 2, 3]); // d/dx (c·x) with c = x held constant
    const detached = stopGradient(x);
    x.dispose();
    expect(Array.from(await detached.data())).toEqual([1, 2, 3]); // owns its reference to the buffer
    tf.dispose([gradient, detached]);
  });
});
