import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { InvalidOptionError, NonFiniteValueError } from '@vkd/core';
import { registerFastKernels } from '@vkd/backends';
import { useBackend } from '@vkd/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkpointHook,
  createTrainer,
  jsonlLogHook,
  learningRateHook,
  multiStepLr,
  type TrainerHooks,
  type BatchArrays,
} from '../src/index';
import { repeatedBatches, syntheticBatch, tinyTeacherStep } from './helpers';

let directory = '';
beforeAll(async () => {
  await useBackend('cpu');
  registerFastKernels('cpu');
  directory = await mkdtemp(path.join(tmpdir(), 'vkd-trainer-loop-'));
});
afterAll(() => rm(directory, { recursive: true, force: true }));

describe('createTrainer', () => {
  it('runs the hooks in order, applies the LR schedule, logs JSONL and returns per-epoch data', async () => {
    const { step, dispose } = tinyTeacherStep({ learningRate: 1e-3 });
    const events: string[] = [];
    const recorder: TrainerHooks<BatchArrays> = {
      beforeTrain: (context) => void events.push(`beforeTrain@${context.epoch}`),
      beforeEpoch: (context) =>
        void events.push(`beforeEpoch ${context.epoch} lr=${context.step.optimizer.learningRate}`),
      beforeStep: (context) => void events.push(`beforeStep ${context.globalStep}`),
      afterStep: (_context, record) => void events.push(`afterStep ${record.globalStep}`),
      afterEpoch: (context, summary) => {
        context.metrics['custom'] = summary.epoch * 10;
        events.push(`afterEpoch ${summary.epoch} steps=${summary.steps}`);
      },
      afterTrain: (_context, result) => void events.push(`afterTrain next=${result.nextEpoch}`),
    };
    const logPath = path.join(directory, 'logs', 'train.jsonl');
    const trainer = createTrainer({
      step: step,
      hooks: [
        learningRateHook(multiStepLr({ baseLearningRate: 1e-3, milestones: [1] })),
        recorder,
        jsonlLogHook({ path: logPath }),
      ],
    });
    const batches = [syntheticBatch({ seed: 1 }), syntheticBatch({ seed: 2 })];
    const result = await trainer.fit(repeatedBatches(batches), { epochs: 2 });
    expect(events).toEqual([
      'beforeTrain@0',
      'beforeEpoch 0 lr=0.001',
      'beforeStep 0',
      'afterStep 1',
      'beforeStep 1',
      'afterStep 2',
      'afterEpoch 0 steps=2',
      `beforeEpoch 1 lr=${1e-3 * 0.1}`,
      'beforeStep 2',
      'afterStep 3',
      'beforeStep 3',
      'afterStep 4',
      'afterEpoch 1 steps=2',
      'afterTrain next=2',
    ]);
    expect(result.nextEpoch).toBe(2);
    expect(result.globalStep).toBe(4);
    expect(result.stopped).toBe(false);
    const [first, second] = result.epochs;
    expect(first?.learningRate).toBe(1e-3);
    expect(second?.learningRate).toBeCloseTo(1e-4, 12);
    expect(second?.metrics).toEqual({ custom: 10 });
    expect(first?.images).toBe(2 * 6 * 2);
    expect(first?.imagesPerSecond).toBeGreaterThan(0);
    expect(Number.isFinite(first?.losses['crossEntropy'])).toBe(true);

    const lines = (await readFile(logPath, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.map((line) => line['type'])).toEqual([
      'train-start',
      'step',
      'step',
      'epoch',
      'step',
      'step',
      'epoch',
      'train-end',
    ]);
    const stepLine = lines[1] as Record<string, unknown>;
    for (const key of ['epoch', 'globalStep', 'total', 'learningRate', 'imagesPerSecond', 'seconds', 'images'])
      expect(stepLine).toHaveProperty(key);
    expect(Object.keys(stepLine['losses'] as object).sort()).toEqual(['crossEntropy', 'triplet']);
    dispose();
  });

  it('stops early on request and keeps the tensor count flat across epochs', async () => {
    const { step, dispose } = tinyTeacherStep();
    const counts: number[] = [];
    const trainer = createTrainer({
      step: step,
      hooks: [
        {
          afterStep: (context, record) => {
            counts.push(tf.memory().numTensors);
            if (record.globalStep === 3) context.requestStop('enough');
          },
        },
      ],
    });
    const result = await trainer.fit(repeatedBatches([syntheticBatch()]), { epochs: 10 });
    expect(result).toMatchObject({ stopped: true, stopReason: 'enough', nextEpoch: 3, globalStep: 3 });
    expect(counts[2]).toBe(counts[1]);
    dispose();
  });

  it('stops on a NaN loss with a NonFiniteValueError naming the epoch, step and the last good checkpoint', async () => {
    const { step, dispose } = tinyTeacherStep();
    const bad = syntheticBatch({ identities: 2, frames: 1 });
    bad.frames.fill(Number.POSITIVE_INFINITY, 0, 10);
    const afterTrainCalls: string[] = [];
    const trainer = createTrainer({
      step: step,
      hooks: [
        checkpointHook({ directory: path.join(directory, 'nan-run') }),
        jsonlLogHook({ path: path.join(directory, 'nan.jsonl') }),
        { afterTrain: () => void afterTrainCalls.push('afterTrain') },
      ],
    });
    const good = syntheticBatch({ identities: 2, frames: 1 });
    const data = { batches: (epoch: number) => (epoch === 0 ? [good] : [good, bad]) };
    const error = await trainer.fit(data, { epochs: 3 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(NonFiniteValueError);
    expect((error as Error).message).toMatch(/training epoch 1 step 1 \(global 2\)/);
    expect((error as Error).message).toContain(
      `last good checkpoint is ${path.join(directory, 'nan-run', 'epoch-0001')}`,
    );
    expect((await readdir(path.join(directory, 'nan-run'))).sort()).toEqual(['checkpoints.json', 'epoch-0001']);
    expect(afterTrainCalls).toEqual([]);
    const lines = (await readFile(path.join(directory, 'nan.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.at(-1)).toMatchObject({ type: 'error', name: 'NonFiniteValueError', epoch: 1, globalStep: 2 });
    expect(lines.filter((line) => line['type'] === 'step')).toHaveLength(2);
    dispose();
  });

  it('validates fit options', async () => {
    const { step, dispose } = tinyTeacherStep();
    const trainer = createTrainer({ step: step });
    await expect(trainer.fit(repeatedBatches([]), { epochs: -1 })).rejects.toThrow(InvalidOptionError);
    await expect(trainer.fit(repeatedBatches([]), { epochs: 2, startEpoch: 1.5 })).rejects.toThrow(/startEpoch/);
    dispose();
  });
});
