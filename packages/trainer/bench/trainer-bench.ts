/**
 * Throughput of @vkd/trainer on the wasm backend with @vkd/backends' fast kernels (one core, as Node's wasm is).
 * Run from the repository root:
 *   npx tsx --conditions=@vkd/source packages/trainer/bench/trainer-bench.ts [--small]
 * Writes packages/trainer/bench/results.json (or results-small.json).
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-wasm';
import { registerFastKernels } from '@vkd/backends';
import { createRandom } from '@vkd/core';
import { createReidModel } from '@vkd/models';
import { adamWithL2, createStudent, distillStep, extractFeatures, teacherStep, type BatchArrays } from '../src/index';

const small = process.argv.includes('--small');
const repeats = small ? 2 : 4;

function batch(tracklets: number, frames: number, height: number, width: number, identities: number): BatchArrays {
  const random = createRandom(1);
  const data = new Float32Array(tracklets * frames * height * width * 3);
  for (let i = 0; i < data.length; i++) data[i] = random.normal();
  return {
    frames: data,
    shape: [tracklets, frames, height, width, 3],
    identities: Int32Array.from({ length: tracklets }, (_, i) => i % identities),
    cameras: new Int32Array(tracklets),
    trackletIndices: Int32Array.from({ length: tracklets }, (_, i) => i),
  };
}

async function time(run: () => Promise<unknown>): Promise<number> {
  await run(); // warm-up
  const start = performance.now();
  for (let i = 0; i < repeats; i++) await run();
  return (performance.now() - start) / repeats;
}

async function main() {
  tf.enableProdMode();
  if (!(await tf.setBackend('wasm'))) throw new Error('wasm backend unavailable');
  registerFastKernels('wasm');
  const results: Record<string, unknown> = {
    backend: 'wasm',
    cpu: os.cpus()[0]?.model,
    node: process.version,
    date: new Date().toISOString(),
    repeats,
  };

  // 1. Adam update over a full-width ResNet-18 (11.2 M trainable parameters): fused host loop vs tensor ops.
  const wide = createReidModel({ backbone: 'resnet18', numIdentities: 625, baseWidth: small ? 16 : 64 });
  const variables = wide.trainableVariables();
  const gradients = variables.map((variable) => tf.randomNormal(variable.shape));
  const parameters = variables.reduce((sum, variable) => sum + variable.size, 0);
  for (const update of ['host', 'device'] as const) {
    const optimizer = adamWithL2({ update });
    results[`adam.${update}.ms`] = await time(() => optimizer.applyGradients(variables, gradients));
    optimizer.dispose();
  }
  results['adam.parameters'] = parameters;
  tf.dispose(gradients);
  wide.dispose();

  // 2. Training steps: ResNet-18 baseWidth 16 at 128×64, 8 tracklets × 4 frames (teacher) / 2 of 4 (student).
  const [height, width] = small ? [64, 32] : [128, 64];
  const trainBatch = batch(8, 4, height, width, 4);
  const teacher = createReidModel({ backbone: 'resnet18', numIdentities: 4, baseWidth: 16 });
  const teacherOptimizer = adamWithL2();
  const teacherRun = teacherStep({ model: teacher, optimizer: teacherOptimizer });
  const teacherMs = await time(() => teacherRun.run(trainBatch));
  const student = createStudent(teacher);
  const studentOptimizer = adamWithL2();
  const distillRun = distillStep({ teacher, student, optimizer: studentOptimizer, studentFrames: 2 });
  const distillMs = await time(() => distillRun.run(trainBatch));
  // After the first step (which creates the Adam moments) a step must leave no tensor behind.
  const tensorsBefore = tf.memory().numTensors;
  await distillRun.run(trainBatch);
  results['tensorGrowthPerDistillStep'] = tf.memory().numTensors - tensorsBefore;
  Object.assign(results, {
    'step.shape': trainBatch.shape,
    'teacherStep.ms': teacherMs,
    'teacherStep.imagesPerSecond': (8 * 4 * 1000) / teacherMs,
    'distillStep.ms': distillMs,
    'distillStep.imagesPerSecond': (8 * 4 * 1000) / distillMs,
  });

  // 3. Feature extraction: 32 tracklets × 8 frames per batch.
  const evalBatch = batch(32, 8, height, width, 4);
  const extractMs = await time(() => extractFeatures(teacher, [evalBatch]));
  results['extractFeatures.framesPerSecond'] = (32 * 8 * 1000) / extractMs;
  [teacherOptimizer, studentOptimizer].forEach((optimizer) => optimizer.dispose());
  student.dispose();
  teacher.dispose();

  const file = new URL(small ? './results-small.json' : './results.json', import.meta.url);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  console.log(JSON.stringify(results, null, 2));
}

await main();
