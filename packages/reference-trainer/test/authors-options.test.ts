import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { useBackend } from '@vkd/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  distillSettings,
  frameStrategyOf,
  generationLearningRate,
  teacherSettings,
} from '../src/config/stage-settings';
import { syntheticSetInTempFolder } from './support/synthetic-set';
import { vkd } from './support/vkd';

const TINY = [
  '--device',
  'cpu',
  '--height',
  '32',
  '--width',
  '16',
  '--epochs',
  '1',
  '--identities-per-batch',
  '2',
  '--instances-per-identity',
  '1',
  '--frames-per-tracklet',
  '2',
  '--eval-every',
  '0',
  '--test-frames',
  '2',
  '--augment',
  'false',
];

let directory: string;
let root: string;
let teacher: string;

beforeAll(async () => {
  await useBackend('cpu');
  ({ directory, root } = await syntheticSetInTempFolder('vkd-options-', {
    identities: 4,
    cameras: 2,
    framesPerTracklet: 2,
    height: 32,
    width: 16,
  }));
  teacher = join(directory, 'teacher');
  const trained = await vkd([
    'train-teacher',
    ...TINY,
    '--dataset',
    'synthetic',
    '--root',
    root,
    '--backbone',
    'resnet18',
    '--base-width',
    '4',
    '--out',
    teacher,
  ]);
  expect(trained.stderr).toBe('');
  expect(trained.code).toBe(0);
}, 120_000);

describe("the authors' options (train_v2v.py / train_distill.py)", () => {
  it('maps --train-strategy to the frame samplers and decays the born-again learning rate as LearningRateGenDecayer', () => {
    expect(frameStrategyOf('temporal')).toBe('chunk-first');
    expect(frameStrategyOf('multiview')).toBe('multiview');
    expect(frameStrategyOf('chunk')).toBe('chunk');
    expect(teacherSettings({ dataset: 'mars', backbone: 'resnet50' }).trainStrategy).toBe('chunk');
    expect(distillSettings({}).trainStrategy).toBe('multiview');
    expect(distillSettings({})).toMatchObject({
      logitsDistance: 'kl',
      generations: 1,
      generationLrDecay: 0.1,
      reinitLastStage: true,
    });
    // max(lr · decay^g, 1e-5) with g counted from 0 for the first generation.
    expect(generationLearningRate({ learningRate: 1e-4, generationLrDecay: 0.1 }, 1)).toBe(1e-4);
    expect(generationLearningRate({ learningRate: 1e-4, generationLrDecay: 0.1 }, 2)).toBeCloseTo(1e-5, 12);
    expect(generationLearningRate({ learningRate: 1e-4, generationLrDecay: 0.1 }, 3)).toBe(1e-5);
    expect(generationLearningRate({ learningRate: 1e-3, generationLrDecay: 0.5 }, 3)).toBeCloseTo(2.5e-4, 12);
    expect(() => distillSettings({ generations: 2, resume: true })).toThrow(/--resume continues one stage/);
  });

  it('rejects strategies of the other stage, naming the choices', async () => {
    const teacherStage = await vkd(['train-teacher', '--train-strategy', 'temporal']);
    expect(teacherStage.code).toBe(2);
    expect(teacherStage.stderr).toMatch(/Invalid --train-strategy: "temporal". Expected one of: chunk, multiview/);
    const student = await vkd(['distill', '--train-strategy', 'chunk']);
    expect(student.stderr).toMatch(/Invalid --train-strategy: "chunk". Expected one of: multiview, temporal/);
  });

  it('distill --generations 2 --logits-distance mse --train-strategy temporal: two rounds, each student the next teacher', async () => {
    const out = join(directory, 'born-again');
    const run = await vkd([
      'distill',
      ...TINY,
      '--dataset',
      'synthetic',
      '--root',
      root,
      '--teacher',
      teacher,
      '--generations',
      '2',
      '--logits-distance',
      'mse',
      '--train-strategy',
      'temporal',
      '--student-frames',
      '1',
      '--out',
      out,
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/distill: generation 2\/2, learning rate 0\.00001/);
    for (const generation of ['generation-1', 'generation-2'])
      expect((await stat(join(out, generation, 'model', 'model.json'))).isFile(), generation).toBe(true);
    const metrics = JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8')) as {
      settings: {
        generations: Array<{ generation: number; learningRate: number; model: string; metrics?: unknown }>;
        student: { trainStrategy: string; logitsDistance: string };
      };
    };
    expect(metrics.settings.generations.map((entry) => entry.learningRate)).toEqual([1e-4, 1e-5]);
    expect(metrics.settings.generations[0]?.metrics).toBeDefined();
    expect(metrics.settings.student).toMatchObject({ trainStrategy: 'temporal', logitsDistance: 'mse' });
    // Generation 2's teacher is generation 1's student: its settings name it.
    const second = JSON.parse(await readFile(join(out, 'generation-2', 'model', 'model.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(JSON.stringify(second)).toContain(join(out, 'generation-1', 'model'));
  }, 180_000);

  it("--logits-distance reaches the loss: the first step's distillation term differs between kl and mse", async () => {
    const firstTerm = async (distance: string) => {
      const out = join(directory, `distance-${distance}`);
      const run = await vkd([
        'distill',
        ...TINY,
        '--dataset',
        'synthetic',
        '--root',
        root,
        '--teacher',
        teacher,
        '--logits-distance',
        distance,
        '--student-frames',
        '1',
        '--out',
        out,
      ]);
      expect(run.code, run.stderr).toBe(0);
      const lines = (await readFile(join(out, 'log.jsonl'), 'utf8'))
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { type: string; losses?: Record<string, number> });
      return lines.find((line) => line.type === 'step')?.losses?.logitDistillation as number;
    };
    const kl = await firstTerm('kl');
    const mse = await firstTerm('mse');
    expect(Number.isFinite(kl) && Number.isFinite(mse)).toBe(true);
    // Near-zero logits of a fresh head: τ²·KL ≈ ½·variance of the logit difference, MSE its mean square; ~1 % apart here.
    expect(Math.abs(kl - mse) / Math.abs(kl)).toBeGreaterThan(1e-3);
  }, 180_000);
});
