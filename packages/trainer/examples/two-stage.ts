/**
 * The README example: synthetic multi-view set → teacher → VKD student → evaluation of both, on the wasm backend.
 * Run from the repository root: `npx tsx --conditions=@vkd/source packages/trainer/examples/two-stage.ts [--quick] [--out DIR]`
 * (`--quick`: tiny set and models, about a minute on 2 cores).
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-wasm';
import { registerFastKernels } from '@vkd/backends';
import { generateSyntheticDataset, loadDataset } from '@vkd/datasets';
import { createEvaluationLoader, createTrackletLoader } from '@vkd/datasets/node';
import { createReidModel } from '@vkd/models';
import {
  adamWithL2,
  checkpointHook,
  createStudent,
  createTrainer,
  createTrainingData,
  distillStep,
  evaluateHook,
  evaluateModel,
  jsonlLogHook,
  learningRateHook,
  loadModelFromCheckpoint,
  multiStepLr,
  teacherStep,
} from '../src/index';

const quick = process.argv.includes('--quick');
const outIndex = process.argv.indexOf('--out');
const out =
  outIndex > 0 ? (process.argv[outIndex + 1] as string) : await mkdtemp(path.join(tmpdir(), 'vkd-two-stage-'));
const size = quick
  ? { identities: 12, height: 32, width: 16, baseWidth: 8, epochs: 3, frames: 4, identitiesPerBatch: 3 }
  : { identities: 40, height: 128, width: 64, baseWidth: 16, epochs: 30, frames: 8, identitiesPerBatch: 8 };

tf.enableProdMode();
if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend did not start');
registerFastKernels('wasm');
const root = path.join(out, 'data');
await generateSyntheticDataset({ root, identities: size.identities, height: size.height, width: size.width });
const dataset = await loadDataset('synthetic', { root, generate: false });
const imageSize = [size.height, size.width] as const;

// Stage 1: teacher on N frames per tracklet (CE + soft-margin batch-hard triplet).
const teacher = createReidModel({
  backbone: 'resnet18',
  baseWidth: size.baseWidth,
  numIdentities: dataset.numTrainIdentities,
});
const teacherOptimizer = adamWithL2({ learningRate: 1e-3 });
await createTrainer({
  step: teacherStep({ model: teacher, optimizer: teacherOptimizer }),
  hooks: [
    learningRateHook(multiStepLr({ baseLearningRate: 1e-3, milestones: [Math.floor((size.epochs * 2) / 3)] })),
    evaluateHook({
      dataset,
      every: size.epochs,
      evaluation: { batches: createEvaluationLoader, imageSize, framesPerTracklet: size.frames },
    }),
    checkpointHook({
      directory: path.join(out, 'teacher', 'checkpoints'),
      keepLast: 2,
      best: { metric: 'v2v.mAPTrapezoid' },
    }),
    jsonlLogHook({ path: path.join(out, 'teacher', 'log.jsonl') }),
  ],
}).fit(
  createTrainingData({
    loader: createTrackletLoader,
    tracklets: dataset.train,
    identitiesPerBatch: size.identitiesPerBatch,
    instancesPerIdentity: 4,
    framesPerTracklet: size.frames,
    strategy: 'chunk',
    imageSize,
  }),
  { epochs: size.epochs },
);
teacherOptimizer.dispose();
teacher.dispose();

// Stage 2: VKD. Frozen teacher on N views, student on M = 2 of the same augmented frames.
const frozenTeacher = await loadModelFromCheckpoint(path.join(out, 'teacher', 'checkpoints'), { which: 'best' });
// 'keep': a few epochs from scratch are too few to re-learn a random layer4 (the authors reload it from ImageNet).
const student = createStudent(frozenTeacher, { lastStage: 'keep' });
const studentOptimizer = adamWithL2({ learningRate: 1e-3 });
await createTrainer({
  step: distillStep({ teacher: frozenTeacher, student, optimizer: studentOptimizer, studentFrames: 2 }),
  hooks: [
    checkpointHook({ directory: path.join(out, 'student', 'checkpoints') }),
    jsonlLogHook({ path: path.join(out, 'student', 'log.jsonl') }),
  ],
}).fit(
  createTrainingData({
    loader: createTrackletLoader,
    tracklets: dataset.train,
    identitiesPerBatch: size.identitiesPerBatch,
    instancesPerIdentity: 4,
    framesPerTracklet: size.frames,
    strategy: 'multiview',
    imageSize,
  }),
  { epochs: size.epochs },
);

for (const [name, model] of [
  ['teacher', frozenTeacher],
  ['student', student],
] as const) {
  const batches = createEvaluationLoader;
  const report = await evaluateModel(model, dataset, { batches, imageSize, framesPerTracklet: size.frames });
  const { i2v, v2v } = report.protocols;
  console.log(
    `${name}: I2V rank-1 ${i2v?.rank1.toFixed(3)} mAP ${i2v?.mAPTrapezoid.toFixed(3)} | V2V rank-1 ${v2v?.rank1.toFixed(3)} mAP ${v2v?.mAPTrapezoid.toFixed(3)}`,
  );
}
console.log(`runs written to ${out}`);
studentOptimizer.dispose();
student.dispose();
frozenTeacher.dispose();
