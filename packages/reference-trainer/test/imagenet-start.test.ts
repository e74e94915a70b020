import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { createReidModel, loadReidModel, saveReidModel } from '@vkd/models';
import { useBackend } from '@vkd/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { presetNames, presetRequiresImagenetWeights, presetValues } from '../src/config/presets';
import { distillSettings, teacherSettings } from '../src/config/stage-settings';
import { syntheticSetInTempFolder } from './support/synthetic-set';
import { tinyTraining } from './support/tiny-training';
import { vkd } from './support/vkd';

const CONV1 = 'backbone.features_layers.0.0.weight';

async function values(
  model: { getWeights(): Record<string, tf.Tensor> },
  names: readonly string[],
): Promise<Record<string, number[]>> {
  const weights = model.getWeights();
  const result: Record<string, number[]> = {};
  for (const name of names) result[name] = Array.from(await (weights[name] as tf.Tensor).data());
  tf.dispose(Object.values(weights));
  return result;
}

let directory: string;
let root: string;

beforeAll(async () => {
  await useBackend('cpu');
  ({ directory, root } = await syntheticSetInTempFolder('vkd-imagenet-', {
    identities: 4,
    cameras: 2,
    framesPerTracklet: 2,
    height: 32,
    width: 16,
  }));
}, 60_000);

describe("authors' presets require ImageNet weights", () => {
  it('marks every dataset preset and no demo preset', () => {
    for (const name of presetNames()) expect(presetRequiresImagenetWeights(name), name).toBe(!name.startsWith('demo'));
  });

  it('stops before any work with exit 2 and the import-weights line; none opts out, recorded', async () => {
    const missing = await vkd([
      'train-teacher',
      '--preset',
      'mars-resnet50',
      '--root',
      join(directory, 'no-such-root'),
      '--out',
      join(directory, 'r'),
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--imagenet-weights is required: --preset mars-resnet50 reproduces an authors' run/);
    expect(missing.stderr).toContain(
      'vkd import-weights --source resnet50-0676ba61.pth --format torchvision --backbone resnet50',
    );
    expect(missing.stderr).toContain('--imagenet-weights none');
    const student = await vkd([
      'distill',
      '--preset',
      'veri-resnet34',
      '--root',
      root,
      '--teacher',
      root,
      '--out',
      join(directory, 's'),
    ]);
    expect(student.code).toBe(2);
    expect(student.stderr).toMatch(/reload the student's last stage from ImageNet.*resnet34-b627a593\.pth/);
    // Explicitly from scratch: the settings pass (the missing root is the next thing to fail) and record it.
    const scratch = await vkd([
      'train-teacher',
      '--preset',
      'mars-resnet50',
      '--imagenet-weights',
      'none',
      '--root',
      join(directory, 'no-such-root'),
      '--out',
      join(directory, 'r'),
    ]);
    expect(scratch.stderr).toMatch(/DatasetNotFoundError/);
    expect(
      teacherSettings({ ...presetValues('mars-resnet50', 'teacher'), preset: 'mars-resnet50', imagenetWeights: 'none' })
        .imagenetStart,
    ).toEqual({ kind: 'scratch', explicit: true });
    expect(teacherSettings({ ...presetValues('demo', 'teacher'), preset: 'demo' }).imagenetStart).toEqual({
      kind: 'scratch',
      explicit: false,
    });
    // A student that keeps the teacher's layer4 needs no ImageNet weights; giving them anyway is an error.
    const keep = { ...presetValues('mars-resnet50', 'distill'), preset: 'mars-resnet50', reinitLastStage: false };
    expect(distillSettings(keep)).toMatchObject({ reinitLastStage: false, imagenetStart: { kind: 'unused' } });
    expect(() => distillSettings({ ...keep, imagenetWeights: '/models/r50' })).toThrow(
      /--reinit-last-stage false.*would not be used/,
    );
  });
});

describe('vkd train-teacher --imagenet-weights DIR', () => {
  it("starts the teacher's backbone from DIR: conv filters exactly DIR's, head fresh", async () => {
    const imagenetDirectory = join(directory, 'resnet18-imagenet');
    const imagenet = createReidModel({ backbone: 'resnet18', baseWidth: 4, numIdentities: 1, seed: 77 });
    await saveReidModel(imagenet, imagenetDirectory);
    const names = [CONV1, 'backbone.features_layers.4.0.1.conv2.weight'];
    const expected = await values(imagenet, names);
    imagenet.dispose();
    const out = join(directory, 'teacher');
    // Learning rate 0: Adam leaves every weight as it started, so the saved model shows the initial filters.
    const run = await vkd([
      'train-teacher',
      ...tinyTraining({ height: 32, width: 16, framesPerTracklet: 2 }),
      '--dataset',
      'synthetic',
      '--root',
      root,
      '--learning-rate',
      '0',
      '--eval-every',
      '0',
      '--test-frames',
      '2',
      '--augment',
      'false',
      '--imagenet-weights',
      imagenetDirectory,
      '--out',
      out,
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /train-teacher: backbone from ImageNet \(.*resnet18-imagenet\): \d+ weights; head fresh/,
    );
    const teacher = await loadReidModel(join(out, 'model'));
    expect(await values(teacher, names)).toEqual(expected);
    teacher.dispose();
    const settings = JSON.parse(await readFile(join(out, 'settings.json'), 'utf8')) as {
      training: { imagenetStart: unknown };
    };
    expect(settings.training.imagenetStart).toEqual({ kind: 'imagenet', directory: imagenetDirectory });
  }, 120_000);
});
