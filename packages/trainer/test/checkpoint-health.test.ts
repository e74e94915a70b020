import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { CheckpointError, NonFiniteValueError, TrainingDivergedError } from '@vkd/core';
import { readSafetensors, writeSafetensors } from '@vkd/models';
import { expectNoLeak, useBackend } from '@vkd/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkpointHook,
  createTrainer,
  divergenceHook,
  loadCheckpoint,
  readCheckpointIndex,
  repairTrainingLog,
  saveCheckpoint,
  type TrainerContext,
} from '../src/index';
import { recoverInterruptedWrites } from '../src/checkpoint-files';
import { tensorHealth } from '../src/checkpoint-validation';
import { repeatedBatches, syntheticBatch, tinyTeacherStep } from './helpers';

let root = '';
beforeAll(async () => {
  await useBackend('cpu');
  root = await mkdtemp(path.join(tmpdir(), 'vkd-trainer-health-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

/** Sets the first element of weight `name` to `value`. */
function poison(model: ReturnType<typeof tinyTeacherStep>['model'], name: string, value: number): void {
  const weights = model.getWeights();
  const target = weights[name] as tf.Tensor;
  const values = target.dataSync().slice();
  values[0] = value;
  const replaced = tf.tensor(values, target.shape, target.dtype);
  model.setWeights({ [name]: replaced });
  replaced.dispose();
  tf.dispose(Object.values(weights).filter((tensor) => !(tensor instanceof tf.Variable)));
}

describe('checkpoints are checked finite when written and when read', () => {
  it('tensorHealth counts NaN/Inf and the largest finite magnitude, without leaking', async () => {
    const tensors = { a: tf.tensor1d([1, Number.NaN, -7, Number.POSITIVE_INFINITY]), b: tf.tensor1d([0.5], 'int32') };
    await expectNoLeak(async () => {
      expect(await tensorHealth(tensors)).toEqual([
        { name: 'a', nonFinite: 2, maxAbs: 7 },
        { name: 'b', nonFinite: 0, maxAbs: 0 },
      ]);
    });
    tf.dispose(Object.values(tensors));
  });

  it('refuses to write NaN weights or weights beyond the bound, writing nothing', async () => {
    const { model, step, dispose } = tinyTeacherStep();
    const name = Object.keys(model.getWeights())[0] as string;
    poison(model, name, 5e6);
    await expect(saveCheckpoint(path.join(root, 'huge'), { step, nextEpoch: 1, globalStep: 1 })).rejects.toThrow(
      TrainingDivergedError,
    );
    await expect(saveCheckpoint(path.join(root, 'huge'), { step, nextEpoch: 1, globalStep: 1 })).rejects.toThrow(
      /reaches 5.00e\+6, beyond the bound 1e\+6/,
    );
    poison(model, name, Number.NaN);
    await expect(saveCheckpoint(path.join(root, 'nan'), { step, nextEpoch: 1, globalStep: 1 })).rejects.toThrow(
      NonFiniteValueError,
    );
    expect(await readdir(root)).toEqual([]);
    dispose();
  });

  it('a run whose update leaves NaN weights stops at the next checkpoint, and the index keeps the last good one', async () => {
    const { model, step, dispose } = tinyTeacherStep();
    const directory = path.join(root, 'exploding');
    const name = Object.keys(model.getWeights())[3] as string;
    const trainer = createTrainer({
      step,
      hooks: [
        // An update that produced NaN weights with a finite loss (the loss is only checked before the update).
        { afterStep: (context) => void (context.epoch === 2 ? poison(model, name, Number.NaN) : undefined) },
        checkpointHook({ directory, keepLast: 1 }),
      ],
    });
    const failure = trainer.fit(repeatedBatches([syntheticBatch({ identities: 2, frames: 1 })]), { epochs: 4 });
    await expect(failure).rejects.toThrow(
      /checkpoint .*epoch-0003: not written: the weights or optimiser state hold \d+ NaN\/Inf values.*The last good checkpoint is .*epoch-0002/,
    );
    expect((await readdir(directory)).sort()).toEqual(['checkpoints.json', 'epoch-0002']);
    expect((await readCheckpointIndex(directory))?.latest).toBe('epoch-0002');
    dispose();
  });

  it('refuses to load a checkpoint holding NaN, and a state.json with a damaged field', async () => {
    const { step, dispose } = tinyTeacherStep();
    const directory = path.join(root, 'damaged');
    await saveCheckpoint(directory, { step, nextEpoch: 1, globalStep: 1 });
    const tensorsFile = path.join(directory, 'model', 'weights.safetensors');
    const { tensors } = readSafetensors(new Uint8Array(await readFile(tensorsFile)));
    const [first] = Object.keys(tensors);
    const bad = tf.fill((tensors[first as string] as tf.Tensor).shape, Number.NaN);
    await writeFile(tensorsFile, await writeSafetensors({ ...tensors, [first as string]: bad }));
    tf.dispose([bad, ...Object.values(tensors)]);
    const count = tf.memory().numTensors;
    await expect(loadCheckpoint(directory)).rejects.toThrow(
      new RegExp(`weights.safetensors: holds \\d+ NaN/Inf values in 1 tensors: ${first!.replace(/\./g, '\\.')}`),
    );
    expect(tf.memory().numTensors).toBe(count);
    const stateFile = path.join(directory, 'state.json');
    const state = JSON.parse(await readFile(stateFile, 'utf8'));
    await writeFile(stateFile, JSON.stringify({ ...state, nextEpoch: 'four' }));
    await expect(loadCheckpoint(directory)).rejects.toThrow(
      /state.json: field nextEpoch is "four", expected an integer >= 0/,
    );
    await expect(loadCheckpoint(directory)).rejects.toThrow(CheckpointError);
    dispose();
  });
});

describe('divergence without NaN stops the run and keeps the last good checkpoint', () => {
  function fakeContext(): TrainerContext<unknown> {
    return {
      step: undefined as never,
      data: undefined as never,
      epochs: 10,
      epoch: 0,
      globalStep: 0,
      metrics: {},
      requestStop: () => {},
    };
  }
  const record = (total: number, globalStep: number) => ({
    total,
    losses: {},
    images: 1,
    epoch: 0,
    epochStep: globalStep,
    globalStep,
    learningRate: 10,
    seconds: 1,
    imagesPerSecond: 1,
  });

  it('flags a loss far above its running level and stops after `patience` such steps', () => {
    const hook = divergenceHook({ patience: 3, warmupSteps: 2 });
    const context = fakeContext();
    hook.beforeTrain?.(context);
    [3.8, 3.7, 3.6, 3.9].forEach((loss, index) => hook.afterStep?.(context, record(loss, index + 1)));
    expect(context.divergence).toBeUndefined();
    hook.afterStep?.(context, record(40, 5));
    expect(context.divergence).toMatch(/loss 40.00 above/);
    hook.afterStep?.(context, record(3.5, 6)); // back to normal
    expect(context.divergence).toBeUndefined();
    context.lastGoodCheckpoint = '/runs/t/checkpoints/epoch-0002';
    hook.afterStep?.(context, record(120, 7));
    hook.afterStep?.(context, record(900, 8));
    expect(() => hook.afterStep?.(context, record(9326, 9))).toThrow(
      /the run diverged: loss 9326 above .* for 3 steps.*last good checkpoint is \/runs\/t\/checkpoints\/epoch-0002/,
    );
    expect(() => divergenceHook({ patience: 0 })).toThrow(/patience/);
  });

  it('checkpoints written while diverging are not "good" and never rotate the last good one away', async () => {
    const { step, dispose } = tinyTeacherStep();
    const directory = path.join(root, 'diverging');
    const trainer = createTrainer({
      step,
      hooks: [
        {
          afterStep: (context) => {
            context.divergence = context.epoch >= 2 ? 'simulated' : undefined;
          },
        },
        checkpointHook({ directory, keepLast: 1 }),
      ],
    });
    await trainer.fit(repeatedBatches([syntheticBatch({ identities: 2, frames: 1 })]), { epochs: 5 });
    const index = await readCheckpointIndex(directory);
    expect(index).toMatchObject({ latest: 'epoch-0005', lastGood: 'epoch-0002' });
    expect((await readdir(directory)).sort()).toEqual(['checkpoints.json', 'epoch-0002', 'epoch-0005']);
    dispose();
  });
});

describe('logs and interrupted writes', () => {
  it('repairTrainingLog cuts a torn last line, drops damaged and replayed lines, keeps the rest', async () => {
    const file = path.join(root, 'log.jsonl');
    const lines = [
      { type: 'train-start', epoch: 0, globalStep: 0 },
      { type: 'step', epoch: 0, globalStep: 1 },
      { type: 'epoch', epoch: 0 },
      { type: 'step', epoch: 1, globalStep: 2 },
      { type: 'epoch', epoch: 1 },
    ].map((entry) => JSON.stringify(entry));
    await writeFile(
      file,
      `${lines.slice(0, 2).join('\n')}\n{"type":"st\n${lines.slice(2).join('\n')}\n{"type":"step","epo`,
    );
    const repair = await repairTrainingLog(file, { nextEpoch: 1, globalStep: 1 });
    expect(repair).toEqual({ tornLine: true, damagedLines: [3], replayedLines: 2 });
    expect(await readFile(file, 'utf8')).toBe(`${lines.slice(0, 3).join('\n')}\n`);
    expect(await repairTrainingLog(file, { nextEpoch: 1, globalStep: 1 })).toEqual({
      tornLine: false,
      damagedLines: [],
      replayedLines: 0,
    });
  });

  it('recoverInterruptedWrites puts back a checkpoint moved aside by a killed writer and removes its temporaries', async () => {
    const directory = path.join(root, 'killed');
    await mkdir(path.join(directory, '.epoch-0002.tmp-999999999-abcdef12.old'), { recursive: true });
    await writeFile(path.join(directory, '.epoch-0002.tmp-999999999-abcdef12.old', 'state.json'), 'old');
    await mkdir(path.join(directory, '.epoch-0002.tmp-999999999-abcdef12'));
    await mkdir(path.join(directory, '.epoch-0003.tmp-999999999-12345678'));
    await writeFile(path.join(directory, 'checkpoints.json.tmp-999999999-0000ffff'), '{');
    await mkdir(path.join(directory, `.epoch-0004.tmp-${process.pid}-12345678`)); // a live writer's: kept
    expect((await recoverInterruptedWrites(directory)).length).toBe(4);
    expect((await readdir(directory)).sort()).toEqual([`.epoch-0004.tmp-${process.pid}-12345678`, 'epoch-0002']);
    expect(await readFile(path.join(directory, 'epoch-0002', 'state.json'), 'utf8')).toBe('old');
  });
});
