import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { registerFastKernels } from '@vkd/backends';
import { generateSyntheticDataset, loadDataset } from '@vkd/datasets';
import { createEvaluationLoader, createTrackletLoader } from '@vkd/datasets/node';
import { createReidModel } from '@vkd/models';
import { useBackend } from '@vkd/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
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
  type EvaluationReport,
} from '../src/index';

let root = '';
beforeAll(async () => {
  await useBackend('cpu');
  registerFastKernels('cpu');
  root = await mkdtemp(path.join(tmpdir(), 'vkd-trainer-e2e-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

it('synthetic set → teacher (2 epochs) → VKD student (1 epoch) → I2V/V2V evaluation of both', async () => {
  const imageSize = [32, 16] as const;
  await generateSyntheticDataset({
    root: path.join(root, 'data'),
    identities: 12,
    cameras: 2,
    trackletsPerIdentity: 2,
    framesPerTracklet: 6,
    height: 32,
    width: 16,
    seed: 1,
  });
  const dataset = await loadDataset('synthetic', { root: path.join(root, 'data'), generate: false });
  const tensorsAtStart = tf.memory().numTensors;
  const evaluate = (model: Parameters<typeof evaluateModel>[0]) =>
    evaluateModel(model, dataset, {
      batches: createEvaluationLoader,
      imageSize,
      framesPerTracklet: 4,
      galleryFramesSweep: [1, 4],
    });
  // Teacher stage: CE + triplet on N=4 chunk frames.
  const reports: EvaluationReport[] = [];
  const teacher = createReidModel({
    backbone: 'resnet18',
    baseWidth: 8,
    numIdentities: dataset.numTrainIdentities,
    seed: 1,
  });
  const teacherOptimizer = adamWithL2({ learningRate: 1e-3 });
  const teacherRun = path.join(root, 'runs', 'teacher');
  const teacherResult = await createTrainer({
    step: teacherStep({ model: teacher, optimizer: teacherOptimizer }),
    hooks: [
      learningRateHook(multiStepLr({ baseLearningRate: 1e-3, milestones: [1] })),
      evaluateHook({
        dataset,
        every: 2,
        evaluation: { batches: createEvaluationLoader, imageSize, framesPerTracklet: 4 },
        onReport: (report) => void reports.push(report),
      }),
      checkpointHook({ directory: path.join(teacherRun, 'checkpoints'), best: { metric: 'v2v.mAPTrapezoid' } }),
      jsonlLogHook({ path: path.join(teacherRun, 'log.jsonl') }),
    ],
  }).fit(
    createTrainingData({
      loader: createTrackletLoader,
      tracklets: dataset.train,
      identitiesPerBatch: 3,
      instancesPerIdentity: 2,
      framesPerTracklet: 3,
      strategy: 'chunk',
      imageSize,
    }),
    { epochs: 2 },
  );
  teacherOptimizer.dispose();
  teacher.dispose();
  expect(teacherResult.epochs).toHaveLength(2);
  expect(teacherResult.epochs[1]!.learningRate).toBeCloseTo(1e-4, 12);
  expect(teacherResult.epochs[1]!.metrics['v2v.mAPTrapezoid']).toBeGreaterThan(0);
  expect(reports).toHaveLength(1);
  expect(teacherResult.epochs[0]!.metrics).toEqual({});

  // VKD stage: the teacher comes back from its best checkpoint; the student is a copy with head + layer4 re-initialised.
  const frozenTeacher = await loadModelFromCheckpoint(path.join(teacherRun, 'checkpoints'), { which: 'best' });
  const student = createStudent(frozenTeacher);
  const studentOptimizer = adamWithL2({ learningRate: 1e-3 });
  const studentResult = await createTrainer({
    step: distillStep({ teacher: frozenTeacher, student, optimizer: studentOptimizer, studentFrames: 2 }),
    hooks: [jsonlLogHook({ path: path.join(root, 'runs', 'student', 'log.jsonl') })],
  }).fit(
    createTrainingData({
      loader: createTrackletLoader,
      tracklets: dataset.train,
      identitiesPerBatch: 3,
      instancesPerIdentity: 2,
      framesPerTracklet: 3,
      strategy: 'multiview',
      imageSize,
    }),
    { epochs: 1 },
  );
  expect(Object.keys(studentResult.epochs[0]!.losses).sort()).toEqual([
    'crossEntropy',
    'distancePreserving',
    'logitDistillation',
    'triplet',
  ]);

  const teacherReport = await evaluate(frozenTeacher);
  const studentReport = await evaluate(student);
  for (const report of [teacherReport, studentReport]) {
    for (const protocol of ['i2v', 'v2v'] as const) {
      const summary = report.protocols[protocol]!;
      expect(summary.validQueries).toBe(dataset.query.length);
      for (const value of [summary.mAP, summary.mAPTrapezoid, summary.mINP]) expect(value).toBeGreaterThan(0);
      for (const value of [summary.rank1, summary.rank5, summary.mAP]) expect(value).toBeLessThanOrEqual(1);
    }
    expect(report.galleryFramesSweep?.map((entry) => entry.frames)).toEqual([1, 4]);
  }
  expect(teacherReport.protocols.v2v).toEqual(reports[0]!.protocols.v2v);
  const logLines = (await readFile(path.join(root, 'runs', 'student', 'log.jsonl'), 'utf8')).trim().split('\n');
  expect(logLines.filter((line) => line.includes('"type":"step"'))).toHaveLength(2);
  studentOptimizer.dispose();
  student.dispose();
  frozenTeacher.dispose();
  expect(tf.memory().numTensors).toBe(tensorsAtStart);
});
