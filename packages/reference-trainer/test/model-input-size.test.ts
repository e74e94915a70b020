import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { syntheticSetInTempFolder } from './support/synthetic-set';
import { vkd } from './support/vkd';

const RUN = ['--device', 'wasm', '--threads', '1', '--test-frames', '2'];
const TINY = ['--backbone', 'resnet18', '--base-width', '4', ...RUN];
const STAGE = [
  '--identities-per-batch',
  '2',
  '--instances-per-identity',
  '1',
  '--frames-per-tracklet',
  '2',
  '--epochs',
  '1',
  '--eval-every',
  '0',
  '--save-every',
  '1',
];
const readJson = async (path: string) => JSON.parse(await readFile(path, 'utf8'));

let directory: string;
let data: string;

// A 128×64 teacher on a small MARS-layout set of generated JPEGs.
beforeAll(async () => {
  ({ directory, root: data } = await syntheticSetInTempFolder('vkd-input-size-', {
    identities: 8,
    cameras: 2,
    framesPerTracklet: 2,
    height: 64,
    width: 32,
  }));
  const teacher = await vkd([
    'train-teacher',
    '--dataset',
    'mars',
    '--root',
    data,
    '--out',
    join(directory, 'teacher'),
    '--height',
    '128',
    '--width',
    '64',
    ...TINY,
    ...STAGE,
    '--imagenet-weights',
    'none',
  ]);
  expect(teacher.code, teacher.stderr).toBe(0);
}, 120_000);

describe('commands that take a model use its input size', () => {
  it('train-teacher records input size, normalisation, frames, dataset and identities in model.json', async () => {
    const manifest = await readJson(join(directory, 'teacher', 'model', 'model.json'));
    expect(manifest.config.backbone).toBe('resnet18');
    expect(manifest.metadata).toEqual({
      input: { height: 128, width: 64, normalization: { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] } },
      training: { stage: 'teacher', dataset: 'mars', numIdentities: 4, framesPerTracklet: 2, testFrames: 2 },
    });
  });

  it('evaluate and distill of a 128×64 teacher run at 128×64 and say where the size came from', async () => {
    const evaluation = await vkd([
      'evaluate',
      '--dataset',
      'mars',
      '--root',
      data,
      '--model',
      join(directory, 'teacher'),
      '--out',
      join(directory, 'eval'),
      '--gallery-frames',
      '1',
      ...RUN,
    ]);
    expect(evaluation.code, evaluation.stderr).toBe(0);
    expect(evaluation.stdout).toContain(
      'input size: 128×64 from the model given to --model (model.json), not the preset/default 256×128',
    );
    expect((await readJson(join(directory, 'eval', 'metrics.json'))).settings.data).toMatchObject({
      height: 128,
      width: 64,
    });

    const distill = await vkd([
      'distill',
      '--dataset',
      'mars',
      '--root',
      data,
      '--teacher',
      join(directory, 'teacher'),
      '--out',
      join(directory, 'student'),
      '--student-frames',
      '1',
      ...RUN,
      ...STAGE,
    ]);
    expect(distill.code, distill.stderr).toBe(0);
    expect(distill.stdout).toContain('input size: 128×64 from the model given to --teacher');
    expect(distill.stdout).toMatch(
      /student: P=2 identities × K=1 tracklets × N=2 frames = 4 frames of 128×64 per step, student M=1 \(2 frames\); 2 steps per epoch/,
    );
    expect((await readJson(join(directory, 'student', 'settings.json'))).data).toMatchObject({
      height: 128,
      width: 64,
    });
    const student = (await readJson(join(directory, 'student', 'model', 'model.json'))).metadata;
    expect(student.input).toMatchObject({ height: 128, width: 64 });
    expect(student.training).toMatchObject({
      stage: 'student',
      dataset: 'mars',
      numIdentities: 4,
      framesPerTracklet: 1,
      teacher: join(directory, 'teacher', 'model'),
    });
  }, 120_000);

  it('--height/--width win over the model and a difference is warned about; a model without metadata says so', async () => {
    const forced = await vkd([
      'evaluate',
      '--dataset',
      'mars',
      '--root',
      data,
      '--model',
      join(directory, 'teacher'),
      '--height',
      '64',
      '--width',
      '32',
      '--gallery-frames',
      '1',
      ...RUN,
    ]);
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stderr).toContain(
      'warning: running at 64×32 as --height/--width say, but the model given to --model was trained at 128×64',
    );
    const path = join(directory, 'teacher', 'model', 'model.json');
    const { metadata: _metadata, ...old } = await readJson(path);
    await writeFile(path, JSON.stringify(old));
    const legacy = await vkd([
      'evaluate',
      '--dataset',
      'mars',
      '--root',
      data,
      '--model',
      join(directory, 'teacher'),
      '--height',
      '64',
      '--width',
      '32',
      '--gallery-frames',
      '1',
      ...RUN,
    ]);
    expect(legacy.code, legacy.stderr).toBe(0);
    expect(legacy.stderr).toBe('');
    const unsized = await vkd([
      'evaluate',
      '--dataset',
      'mars',
      '--root',
      data,
      '--model',
      join(directory, 'teacher'),
      '--gallery-frames',
      '1',
      '--height',
      '64',
      '--width',
      '32',
      '--test-batch',
      '4',
      '--seed',
      '1',
      ...RUN,
    ]);
    expect(unsized.code, unsized.stderr).toBe(0);
    expect(unsized.stdout).not.toContain('records no input size'); // the user gave the size
    const bare = await vkd([
      'evaluate',
      '--dataset',
      'mars',
      '--root',
      data,
      '--model',
      join(directory, 'teacher'),
      '--gallery-frames',
      '1',
      '--preset',
      'demo-quick',
      ...RUN,
    ]);
    expect(bare.code, bare.stderr).toBe(0);
    expect(bare.stdout).toContain(
      'input size: 64×32 (the model given to --model records no input size; pass --height/--width if it was trained at another)',
    );
  }, 120_000);
});
