import * as tf from '@tensorflow/tfjs-core';
import { registerFastKernels } from '@vkd/backends';
import { maxRelativeDifference, useBackend } from '@vkd/testing';
import { expect, it } from 'vitest';
import { adamWithL2, createStudent, distillStep, teacherStep } from '../src/index';
import { syntheticBatch, tinyModel } from './helpers';

/** Two teacher steps and one distillation step; returns the losses in order. */
async function train(): Promise<number[]> {
  const model = tinyModel();
  const optimizer = adamWithL2({ learningRate: 1e-3 });
  const step = teacherStep({ model, optimizer });
  const batch = syntheticBatch({ frames: 3 });
  const losses = [(await step.run(batch)).total, (await step.run(batch)).total];
  const student = createStudent(model, { lastStage: 'keep' });
  const studentOptimizer = adamWithL2({ learningRate: 1e-3 });
  const distill = distillStep({ teacher: model, student, optimizer: studentOptimizer, seed: 1 });
  const output = await distill.run(batch);
  const before = tf.memory().numTensors;
  await distill.run(batch);
  losses.push(output.total, ...Object.values(output.losses));
  const growth = tf.memory().numTensors - before;
  [optimizer, studentOptimizer].forEach((optimizer) => optimizer.dispose());
  student.dispose();
  model.dispose();
  // Once the Adam moments exist (first step), a step leaves no tensor behind.
  expect(growth).toBe(0);
  return losses;
}

it('trains on wasm with the fast kernels of @vkd/backends and matches the cpu backend', async () => {
  await useBackend('cpu');
  registerFastKernels('cpu');
  const onCpu = await train();
  await useBackend('wasm');
  registerFastKernels('wasm');
  const onWasm = await train();
  expect(onWasm.every(Number.isFinite)).toBe(true);
  // The first loss only depends on the forward pass; later ones go through Adam, whose normalised update amplifies
  // float differences of near-zero gradients, so they agree less tightly.
  expect(maxRelativeDifference(onWasm.slice(0, 1), onCpu.slice(0, 1))).toBeLessThan(1e-5);
  expect(maxRelativeDifference(onWasm, onCpu, 1e-3)).toBeLessThan(1e-2);
});
