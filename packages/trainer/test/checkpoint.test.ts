import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { CheckpointError } from '@vkd/core';
import { registerFastKernels } from '@vkd/backends';
import { generateSyntheticDataset, loadDataset, type ReidDataset } from '@vkd/datasets';
import { createTrackletLoader } from '@vkd/datasets/node';
import { useBackend } from '@vkd/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adamWithL2,
  checkpointHook,
  createStudent,
  createTrainer,
  createTrainingData,
  distillStep,
  learningRateHook,
  loadCheckpoint,
  loadModelFromCheckpoint,
  multiStepLr,
  readCheckpointIndex,
  restoreCheckpoint,
  saveCheckpoint,
  teacherStep,
  type TrainingStep,
  type BatchArrays,
} from '../src/index';
import { loadReidModel, readSafetensors, saveReidModel, writeSafetensors } from '@vkd/models';
import { repeatedBatches, syntheticBatch, tinyModel, tinyTeacherStep } from './helpers';

let root = '';
let dataset: ReidDataset;
beforeAll(async () => {
  await useBackend('cpu');
  registerFastKernels('cpu');
  root = await mkdtemp(path.join(tmpdir(), 'vkd-trainer-ckpt-'));
  await generateSyntheticDataset({
    root: path.join(root, 'data'),
    identities: 8,
    cameras: 2,
    trackletsPerIdentity: 2,
    framesPerTracklet: 5,
    height: 32,
    width: 16,
    seed: 2,
  });
  dataset = await loadDataset('synthetic', { root: path.join(root, 'data'), generate: false });
});
afterAll(() => rm(root, { recursive: true, force: true }));

const imageSize = [32, 16] as const;
const trainingData = (strategy: 'chunk' | 'multiview') =>
  createTrainingData({
    loader: createTrackletLoader,
    tracklets: dataset.train,
    identitiesPerBatch: 2,
    instancesPerIdentity: 2,
    framesPerTracklet: 2,
    strategy,
    imageSize,
    seed: 9,
  });

/** Runs `epochs` epochs (optionally resuming) and records every step's losses and the final weights. */
async function run(
  makeStep: () => { step: TrainingStep<BatchArrays>; dispose: () => void },
  strategy: 'chunk' | 'multiview',
  directory: string,
  epochs: number,
  resumeFrom?: string,
) {
  const { step, dispose } = makeStep();
  const data = trainingData(strategy);
  const losses: Array<[number, number, Record<string, number>]> = [];
  let startEpoch = 0;
  let globalStep = 0;
  if (resumeFrom) ({ nextEpoch: startEpoch, globalStep } = await restoreCheckpoint(resumeFrom, { step, data }));
  const trainer = createTrainer({
    step,
    hooks: [
      learningRateHook(multiStepLr({ baseLearningRate: 1e-3, milestones: [1] })),
      { afterStep: (_context, record) => void losses.push([record.epoch, record.total, record.losses]) },
      checkpointHook({ directory, keepLast: 5 }),
    ],
  });
  await trainer.fit(data, { epochs, startEpoch, globalStep });
  const weights = step.model.getWeights();
  const values = Object.fromEntries(
    await Promise.all(
      Object.entries(weights).map(async ([name, tensor]) => [name, Array.from(await tensor.data())] as const),
    ),
  );
  tf.dispose(Object.values(weights));
  dispose();
  return { losses, values };
}

describe('resume', () => {
  it('teacher stage: a run resumed after epoch 1 produces bit-identical losses and weights', async () => {
    const make = (seed: number) => () => {
      const model = tinyModel(dataset.numTrainIdentities, seed);
      const optimizer = adamWithL2({ learningRate: 1e-3 });
      return {
        step: teacherStep({ model, optimizer }),
        dispose: () => {
          optimizer.dispose();
          model.dispose();
        },
      };
    };
    const full = await run(make(3), 'chunk', path.join(root, 'teacher-full'), 2);
    // Different initial weights: everything must come from the checkpoint.
    const resumed = await run(
      make(99),
      'chunk',
      path.join(root, 'teacher-resumed'),
      2,
      path.join(root, 'teacher-full', 'epoch-0001'),
    );
    const lastEpoch = full.losses.filter(([epoch]) => epoch === 1);
    expect(lastEpoch.length).toBeGreaterThan(0);
    expect(resumed.losses).toEqual(lastEpoch);
    expect(resumed.values).toEqual(full.values);
  });

  it('VKD stage: the student subset RNG and sampler state are restored too', async () => {
    const teacher = tinyModel(dataset.numTrainIdentities, 3);
    const make = () => () => {
      const student = createStudent(teacher);
      const optimizer = adamWithL2({ learningRate: 1e-3 });
      return {
        step: distillStep({ teacher, student, optimizer, studentFrames: 2 }),
        dispose: () => {
          optimizer.dispose();
          student.dispose();
        },
      };
    };
    const full = await run(make(), 'multiview', path.join(root, 'distill-full'), 2);
    const resumed = await run(
      make(),
      'multiview',
      path.join(root, 'distill-resumed'),
      2,
      path.join(root, 'distill-full'),
    );
    // The run directory resolves to its latest checkpoint (epoch-0002): nothing left to run.
    expect(resumed.losses).toEqual([]);
    const again = await run(
      make(),
      'multiview',
      path.join(root, 'distill-resumed-1'),
      2,
      path.join(root, 'distill-full', 'epoch-0001'),
    );
    expect(again.losses).toEqual(full.losses.filter(([epoch]) => epoch === 1));
    expect(again.values).toEqual(full.values);
    teacher.dispose();
  });
});

describe('checkpointHook', () => {
  it('keeps the last k plus the best, atomically, and indexes them', async () => {
    const { model, step, dispose } = tinyTeacherStep();
    const directory = path.join(root, 'retention');
    const scores = [0.2, 0.9, 0.5, 0.4, 0.3];
    const tinyBatch = syntheticBatch({ identities: 2, frames: 1 });
    const trainer = createTrainer({
      step: step,
      hooks: [
        {
          afterEpoch: (context) => {
            context.metrics['v2v.mAP'] = scores[context.epoch]!;
          },
        },
        checkpointHook({ directory, keepLast: 2, best: { metric: 'v2v.mAP' } }),
        {
          afterEpoch: (context) =>
            expect(context.lastCheckpoint).toBe(path.join(directory, `epoch-000${context.epoch + 1}`)),
        },
      ],
    });
    await trainer.fit(repeatedBatches([tinyBatch]), { epochs: 5 });
    const entries = (await readdir(directory)).sort();
    expect(entries).toEqual(['checkpoints.json', 'epoch-0002', 'epoch-0004', 'epoch-0005']);
    const index = await readCheckpointIndex(directory);
    expect(index?.latest).toBe('epoch-0005');
    expect(index?.best).toEqual({ name: 'epoch-0002', metric: 'v2v.mAP', value: 0.9, mode: 'max' });
    const loaded = await loadCheckpoint(path.join(directory, 'epoch-0002'));
    expect(loaded.state).toMatchObject({
      nextEpoch: 2,
      globalStep: 2,
      stepKind: 'teacher',
      metrics: { 'v2v.mAP': 0.9 },
    });
    // The checkpoint embeds the model directory saveReidModel writes: loadReidModel reads the checkpoint itself.
    expect((await readdir(path.join(directory, 'epoch-0002'))).sort()).toEqual([
      'model',
      'optimizer.safetensors',
      'state.json',
    ]);
    expect((await readdir(path.join(directory, 'epoch-0002', 'model'))).sort()).toEqual([
      'model.json',
      'weights.safetensors',
    ]);
    expect(loaded.state).not.toHaveProperty('modelConfig');
    const embedded = await loadReidModel(path.join(directory, 'epoch-0002'));
    expect(embedded.config).toEqual(model.config);
    const saved = path.join(root, 'retention-model');
    await saveReidModel(embedded, saved);
    for (const file of ['model.json', 'weights.safetensors']) {
      expect(await readFile(path.join(saved, file)), file).toEqual(
        await readFile(path.join(directory, 'epoch-0002', 'model', file)),
      );
    }
    embedded.dispose();
    expect(Object.keys(loaded.tensors).filter((name) => name.startsWith('optimizer.m.'))).toHaveLength(
      model.trainableVariables().length,
    );
    tf.dispose(Object.values(loaded.tensors));
    dispose();
  });

  it('still reads version-1 checkpoints (one tensors.safetensors, modelConfig in state.json)', async () => {
    const { model, step, dispose } = tinyTeacherStep();
    const current = path.join(root, 'version-2');
    await saveCheckpoint(current, { step, nextEpoch: 1, globalStep: 3 });
    const old = path.join(root, 'version-1');
    await mkdir(old, { recursive: true });
    const weights = readSafetensors(
      new Uint8Array(await readFile(path.join(current, 'model', 'weights.safetensors'))),
    ).tensors;
    const moments = readSafetensors(
      new Uint8Array(await readFile(path.join(current, 'optimizer.safetensors'))),
    ).tensors;
    const tensors = {
      ...Object.fromEntries(Object.entries(weights).map(([name, tensor]) => [`model.${name}`, tensor])),
      ...Object.fromEntries(Object.entries(moments).map(([name, tensor]) => [`optimizer.${name}`, tensor])),
    };
    await writeFile(path.join(old, 'tensors.safetensors'), await writeSafetensors(tensors));
    tf.dispose(Object.values(tensors));
    const state = JSON.parse(await readFile(path.join(current, 'state.json'), 'utf8')) as Record<string, unknown>;
    await writeFile(path.join(old, 'state.json'), JSON.stringify({ ...state, version: 1, modelConfig: model.config }));
    const [fromOld, fromNew] = [await loadModelFromCheckpoint(old), await loadModelFromCheckpoint(current)];
    const [a, b] = [fromOld.getWeights(), fromNew.getWeights()];
    for (const name of Object.keys(b))
      expect(Array.from(await (a[name] as tf.Tensor).data()), name).toEqual(
        Array.from(await (b[name] as tf.Tensor).data()),
      );
    expect(await restoreCheckpoint(old, { step })).toMatchObject({ nextEpoch: 1, globalStep: 3 });
    tf.dispose([...Object.values(a), ...Object.values(b)]);
    fromOld.dispose();
    fromNew.dispose();
    dispose();
  });

  it('reports unreadable, foreign and mismatched checkpoints with CheckpointError', async () => {
    const { step, dispose } = tinyTeacherStep();
    await expect(loadCheckpoint(path.join(root, 'nope'))).rejects.toThrow(CheckpointError);
    const broken = path.join(root, 'broken');
    await createTrainer({ step, hooks: [checkpointHook({ directory: broken })] }).fit(
      repeatedBatches([syntheticBatch({ identities: 2, frames: 1 })]),
      { epochs: 1 },
    );
    const stateFile = path.join(broken, 'epoch-0001', 'state.json');
    const state = JSON.parse(await readFile(stateFile, 'utf8')) as Record<string, unknown>;
    await writeFile(stateFile, JSON.stringify({ ...state, stepKind: 'distill' }));
    await expect(restoreCheckpoint(broken, { step })).rejects.toThrow(/written by a 'distill' step/);
    const manifestFile = path.join(broken, 'epoch-0001', 'model', 'model.json');
    const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as { config: object };
    await writeFile(manifestFile, JSON.stringify({ ...manifest, config: { ...manifest.config, backbone: 'vgg16' } }));
    await expect(loadModelFromCheckpoint(broken)).rejects.toThrow(
      /model that cannot be built: .*invalid model config: Invalid backbone/,
    );
    await writeFile(manifestFile, JSON.stringify(manifest));
    await expect(loadModelFromCheckpoint(broken, { which: 'best' })).rejects.toThrow(/records no best checkpoint/);
    await writeFile(stateFile, JSON.stringify({ ...state, trainableVariables: 3 }));
    await expect(restoreCheckpoint(broken, { step })).rejects.toThrow(/optimiser state for 3 variables/);
    await writeFile(stateFile, '{ not json');
    await expect(loadCheckpoint(broken)).rejects.toThrow(/cannot read the checkpoint state/);
    // A repeated key is refused (JSON.parse would take the last nextEpoch silently).
    const text = JSON.stringify(state);
    await writeFile(stateFile, `${text.slice(0, -1)},"nextEpoch":9}`);
    await expect(loadCheckpoint(broken)).rejects.toThrow(
      /state\.json: cannot read the checkpoint state \(duplicate key "nextEpoch" at line 1: each key may appear once/,
    );
    const indexFile = path.join(broken, 'checkpoints.json');
    const index = await readFile(indexFile, 'utf8');
    await writeFile(indexFile, '{"checkpoints": [], "checkpoints": []}');
    await expect(loadCheckpoint(broken)).rejects.toThrow(/not a valid checkpoint index: duplicate key "checkpoints"/);
    await writeFile(indexFile, index);
    await writeFile(stateFile, JSON.stringify(state));
    await writeFile(path.join(broken, 'epoch-0001', 'optimizer.safetensors'), 'garbage');
    await expect(loadCheckpoint(broken)).rejects.toThrow(CheckpointError);
    await expect(loadCheckpoint(broken)).rejects.toThrow(/optimizer\.safetensors: is not a valid safetensors file/);
    const count = tf.memory().numTensors;
    await writeFile(path.join(broken, 'checkpoints.json'), '[]');
    await expect(loadCheckpoint(broken)).rejects.toThrow(/not a valid checkpoint index/);
    expect(tf.memory().numTensors).toBe(count);
    dispose();
  });
});
