import * as tf from '@tensorflow/tfjs-core';
import { createRandom, InvalidOptionError, NonFiniteValueError, ShapeMismatchError } from '@vkd/core';
import { registerFastKernels } from '@vkd/backends';
import { useBackend } from '@vkd/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { studentSubsetIndices } from '../src/distill-step';
import { adamWithL2, createStudent, distillStep } from '../src/index';
import type { ReidModel } from '@vkd/models';
import { syntheticBatch, tinyModel, tinyTeacherStep } from './helpers';

beforeAll(async () => {
  await useBackend('cpu');
  registerFastKernels('cpu');
});

async function weightValues(model: { getWeights(): Record<string, tf.Tensor> }): Promise<Record<string, Float32Array>> {
  const weights = model.getWeights();
  const values: Record<string, Float32Array> = {};
  for (const [name, tensor] of Object.entries(weights)) values[name] = (await tensor.data()) as Float32Array;
  tf.dispose(Object.values(weights));
  return values;
}

describe('teacherStep', () => {
  it('lowers CE + triplet on a fixed batch and keeps the tensor count flat', async () => {
    const { step, dispose } = tinyTeacherStep({ learningRate: 1e-3 });
    const batch = syntheticBatch();
    const first = await step.run(batch);
    expect(Object.keys(first.losses).sort()).toEqual(['crossEntropy', 'triplet']);
    expect(first.total).toBeCloseTo(first.losses.crossEntropy! + first.losses.triplet!, 5);
    expect(first.images).toBe(6 * 2);
    const counts: number[] = [];
    let last = first;
    for (let i = 0; i < 3; i++) {
      last = await step.run(batch);
      counts.push(tf.memory().numTensors);
    }
    expect(new Set(counts).size).toBe(1); // no tensor growth across steps
    expect(last.total).toBeLessThan(first.total);
    dispose();
  });

  it('refuses a NaN loss without touching the weights', async () => {
    const { model, optimizer, step, dispose } = tinyTeacherStep();
    const batch = syntheticBatch({ identities: 2, frames: 1 });
    batch.frames[5] = Number.NaN;
    const before = await weightValues(model);
    await expect(step.run(batch)).rejects.toThrow(NonFiniteValueError);
    await expect(step.run(batch)).rejects.toThrow(/teacherStep: loss is not finite \(total=NaN, crossEntropy=NaN/);
    const after = await weightValues(model);
    for (const name of Object.keys(before)) expect(after[name]).toEqual(before[name]);
    expect(optimizer.iterations).toBe(0);
    dispose();
  });

  it('rejects a malformed batch naming it', async () => {
    const { step, dispose } = tinyTeacherStep();
    const batch = syntheticBatch();
    const count = tf.memory().numTensors;
    await expect(step.run({ ...batch, shape: [8, 4, 32, 16] })).rejects.toThrow(ShapeMismatchError);
    await expect(step.run({ ...batch, identities: new Int32Array(3) })).rejects.toThrow(
      /teacherStep\.batch\.identities/,
    );
    expect(tf.memory().numTensors).toBe(count);
    dispose();
  });
});

describe('distillStep', () => {
  it('trains the student on M of the N frames and never changes the teacher (weights or BN statistics)', async () => {
    const teacher = tinyModel();
    const student = createStudent(teacher);
    const optimizer = adamWithL2({ learningRate: 1e-3 });
    // Record how the step runs each network (the real models underneath).
    const calls: Array<[string, number[], object]> = [];
    const watch = (name: string, model: ReidModel): ReidModel => {
      const watched = Object.create(model) as ReidModel;
      watched.forward = (frames, options) => {
        calls.push([name, frames.shape, options]);
        return model.forward(frames, options);
      };
      return watched;
    };
    const step = distillStep({
      teacher: watch('teacher', teacher),
      student: watch('student', student),
      optimizer,
      studentFrames: 2,
      seed: 5,
    });
    const teacherBefore = await weightValues(teacher);
    const studentBefore = await weightValues(student);
    const batch = syntheticBatch({ frames: 3 });
    const first = await step.run(batch);
    expect(calls).toEqual([
      ['teacher', [6, 3, 32, 16, 3], { training: true, batchNorm: 'batch-stats-frozen' }],
      ['student', [6, 2, 32, 16, 3], { training: true, recompute: false }],
    ]);
    expect(Object.keys(first.losses).sort()).toEqual([
      'crossEntropy',
      'distancePreserving',
      'logitDistillation',
      'triplet',
    ]);
    const { crossEntropy, triplet, logitDistillation, distancePreserving } = first.losses as Record<string, number>;
    expect(first.total).toBeCloseTo(
      crossEntropy! + triplet! + 0.1 * logitDistillation! + 1e-4 * distancePreserving!,
      4,
    );
    const counts: number[] = [];
    for (let i = 0; i < 2; i++) {
      await step.run(batch);
      counts.push(tf.memory().numTensors);
    }
    expect(new Set(counts).size).toBe(1);
    const teacherAfter = await weightValues(teacher);
    for (const name of Object.keys(teacherBefore)) expect(teacherAfter[name]).toEqual(teacherBefore[name]);
    const studentAfter = await weightValues(student);
    const changed = Object.keys(studentBefore).filter((name) =>
      studentAfter[name]!.some((value, index) => value !== studentBefore[name]![index]),
    );
    expect(changed.some((name) => name.includes('running_mean'))).toBe(true); // the student's BN statistics move
    expect(changed.length).toBeGreaterThan(10);
    optimizer.dispose();
    student.dispose();
    teacher.dispose();
  });

  it('picks an independent M-subset of each tracklet, as the authors do', () => {
    const indices = studentSubsetIndices(50, 8, 2, createRandom(1));
    for (let tracklet = 0; tracklet < 50; tracklet++) {
      const [a, b] = [indices[2 * tracklet]!, indices[2 * tracklet + 1]!];
      expect(a).not.toBe(b);
      for (const index of [a, b]) expect(Math.floor(index / 8)).toBe(tracklet);
    }
    expect(new Set(Array.from(indices, (index) => index % 8)).size).toBe(8);
  });

  it('rejects M > N, a shared model and bad options', async () => {
    const teacher = tinyModel();
    const optimizer = adamWithL2();
    expect(() => distillStep({ teacher, student: teacher, optimizer })).toThrow(/separate model/);
    expect(() => distillStep({ teacher, student: teacher, optimizer, studentFrames: 0 })).toThrow(InvalidOptionError);
    const student = createStudent(teacher, { lastStage: 'keep' });
    const step = distillStep({ teacher, student, optimizer, studentFrames: 5 });
    const count = tf.memory().numTensors;
    await expect(step.run(syntheticBatch({ frames: 4 }))).rejects.toThrow(/only 4 frames per tracklet/);
    expect(tf.memory().numTensors).toBe(count);
    expect(() => createStudent(teacher, { lastStage: 'imagenet' })).toThrow(/needs ImageNet backbone weights/);
    optimizer.dispose();
    student.dispose();
    teacher.dispose();
  });
});
