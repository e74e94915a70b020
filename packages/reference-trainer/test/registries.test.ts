import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateSyntheticDataset, loadMars, registerDataset, type MarsOptions } from '@vkd/datasets';
import { getBackbone, registerBackbone } from '@vkd/models';
import { defaultProtocols, teacherDefaultsFor } from '@vkd/trainer';
import { COMMANDS } from '../src/cli/commands';
import { resolveCommandInput } from '../src/cli/run-cli';
import { vkd } from './support/vkd';

const command = (name: string) => COMMANDS.find((candidate) => candidate.name === name) as (typeof COMMANDS)[number];

describe('the CLI reads its choices from the @vkd/models backbone registry', () => {
  it('a backbone registered after the CLI loaded is listed in --help and accepted by --backbone', async () => {
    expect((await vkd(['train-teacher', '--backbone', 'resnet50-wide-test', '--out', '/o'])).stderr).toMatch(
      /Invalid --backbone: "resnet50-wide-test". Expected one of: resnet18, resnet34, resnet50, resnet101/,
    );
    registerBackbone({
      ...getBackbone('resnet50'),
      name: 'resnet50-wide-test',
      description: 'test entry',
      aliases: {},
    });
    const general = await vkd(['--help']);
    expect(general.stdout).toMatch(
      /Backbones \(--backbone\): resnet18, resnet34, resnet50 .*resnet101 .*resnet50-wide-test/,
    );
    const help = await vkd(['train-teacher', '--help']);
    expect(help.stdout).toMatch(/--backbone <resnet18\|resnet34\|resnet50\|resnet101\|[^>]*resnet50-wide-test[|>]/);
    expect(help.stdout).toMatch(
      /--attention <none\|bam>\s+BAM attention \(resnet50, resnet101, [^)]*resnet50-wide-test\)/,
    );
    const input = await resolveCommandInput(
      command('train-teacher'),
      ['--backbone', 'resnet50-wide-test', '--attention', 'bam'],
      tmpdir(),
    );
    expect(input.options.backbone).toBe('resnet50-wide-test');
  });
});

describe('the authors’ backbone names on the CLI', () => {
  it('accepts densenet121, mobilenet, resnet50bam / resnet101bam (= resnet50 / resnet101 + --attention bam)', async () => {
    const { modelSettings } = await import('../src/config/stage-settings');
    for (const [argv, expected] of [
      [['--backbone', 'densenet121'], { backbone: 'densenet121', attention: 'none' }],
      [['--backbone', 'mobilenet'], { backbone: 'mobilenet', attention: 'none' }],
      [['--backbone', 'resnet50bam'], { backbone: 'resnet50', attention: 'bam' }],
      [['--backbone', 'resnet101bam', '--attention', 'bam'], { backbone: 'resnet101', attention: 'bam' }],
      [['--backbone', 'resnet50', '--attention', 'bam'], { backbone: 'resnet50', attention: 'bam' }],
    ] as const) {
      const input = await resolveCommandInput(command('train-teacher'), [...argv], tmpdir());
      expect(modelSettings(input.options)).toEqual({ ...expected, baseWidth: 64 });
    }
    const help = await vkd(['train-teacher', '--help']);
    expect(help.stdout).toMatch(/--backbone <[^>]*densenet121\|mobilenet[^>]*resnet50bam\|resnet101bam[^>]*>/);
  });

  it('refuses resnet50bam with --attention none, naming the option', async () => {
    const argv = [
      '--dataset',
      'mars',
      '--backbone',
      'resnet50bam',
      '--attention',
      'none',
      '--root',
      '/d',
      '--out',
      '/o',
    ];
    const { stderr, code } = await vkd(['train-teacher', ...argv]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/Invalid --attention: "none". "resnet50bam" is resnet50 with attention "bam"/);
  });
});

describe('the CLI and the trainer read the @vkd/datasets table', () => {
  it('a registered dataset is listed, gets its preset, defaults and protocols, and trains with no other change', async () => {
    const root = join(await mkdtemp(join(tmpdir(), 'vkd-registry-')), 'tiny');
    await generateSyntheticDataset({
      root,
      identities: 8,
      cameras: 2,
      trackletsPerIdentity: 2,
      framesPerTracklet: 4,
      height: 32,
      width: 16,
      seed: 3,
    });
    expect((await vkd(['datasets', 'stats', '--dataset', 'tiny-test', '--root', root])).stderr).toMatch(
      /Invalid --dataset: "tiny-test"/,
    );
    // The worked example of contributing/add-a-dataset.md: a MARS-layout set under another name.
    registerDataset<MarsOptions>({
      name: 'tiny-test',
      description: 'a tiny MARS-layout set',
      load: (options) => loadMars({ ...options, name: 'tiny-test' }),
      protocols: ['v2v', 'i2v'],
      teacherDefaults: () => ({
        epochs: 2,
        milestones: [1],
        identitiesPerBatch: 2,
        instancesPerIdentity: 2,
        framesPerTracklet: 2,
      }),
      authors: {
        presetPrefix: 'tiny',
        imageSize: [32, 16],
        testFrames: 2,
        networks: [{ name: 'resnet18', backbone: 'resnet18', attention: 'none' }],
      },
    });
    expect((await vkd(['--help'])).stdout).toMatch(
      /Datasets \(--dataset\): mars, duke-video, veri-776, atrw, synthetic, folder.*tiny-test/,
    );
    const help = (await vkd(['train-teacher', '--help'])).stdout;
    expect(help).toMatch(/--dataset <mars\|duke-video\|veri-776\|atrw\|synthetic\|folder\|[^>]*tiny-test>/);
    expect(help).toMatch(/--preset <name>\s+the authors' settings: .*tiny-resnet18/);
    expect(teacherDefaultsFor('tiny-test', 'resnet18')).toMatchObject({
      epochs: 2,
      milestones: [1],
      identitiesPerBatch: 2,
      learningRate: 1e-4,
    });
    expect(defaultProtocols('tiny-test')).toEqual(['v2v', 'i2v']);

    const stats = await vkd(['datasets', 'stats', '--dataset', 'tiny-test', '--root', root]);
    expect(stats.code, stats.stderr).toBe(0);
    expect(stats.stdout).toMatch(/train\s+\|\s+4 \|/);

    const out = join(root, '..', 'run');
    const train = await vkd([
      'train-teacher',
      '--preset',
      'tiny-resnet18',
      '--imagenet-weights',
      'none',
      '--root',
      root,
      '--out',
      out,
      '--base-width',
      '4',
      '--device',
      'cpu',
      '--eval-every',
      '0',
      '--quiet',
    ]);
    expect(train.code, train.stderr).toBe(0);
    const metrics = JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8'));
    expect(metrics.settings.dataset.name).toBe('tiny-test');
    expect(metrics.settings.teacher).toMatchObject({
      epochs: 2,
      milestones: [1],
      identitiesPerBatch: 2,
      framesPerTracklet: 2,
    });
    expect(metrics.teacher.v2v.mAP).toBeGreaterThan(0);
  }, 120_000);
});

describe('presets of the authors’ DenseNet-121 and MobileNet runs (commands.txt)', () => {
  it('exist for MARS, Duke and VeRi; the teacher needs ImageNet weights, the MobileNet student none', async () => {
    const { presetNames, presetValues } = await import('../src/config/presets');
    const { distillSettings, teacherSettings } = await import('../src/config/stage-settings');
    for (const dataset of ['mars', 'duke', 'veri']) {
      for (const backbone of ['densenet121', 'mobilenet']) {
        const preset = `${dataset}-${backbone}`;
        expect(presetNames()).toContain(preset);
        expect(presetValues(preset, 'teacher')).toMatchObject({ backbone, attention: 'none' });
        const teacher = { ...presetValues(preset, 'teacher'), preset };
        expect(() => teacherSettings(teacher)).toThrow(/--imagenet-weights is required/);
      }
    }
    const densenet = { ...presetValues('mars-densenet121', 'distill'), preset: 'mars-densenet121' };
    expect(() => distillSettings(densenet)).toThrow(/densenet121-a639ec97\.pth/);
    const mobilenet = { ...presetValues('mars-mobilenet', 'distill'), preset: 'mars-mobilenet' };
    expect(distillSettings(mobilenet).imagenetStart).toEqual({ kind: 'unused' });
  });
});
