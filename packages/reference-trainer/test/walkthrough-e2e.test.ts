import { access, mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { runMetricsCli } from '@vkd/metrics/cli';
import type { RunMetrics } from '../src/report/run-metrics';
import { readTensorBoardEvents } from './read-tensorboard-events';
import { vkd } from './support/vkd';

/**
 * The README walk-through ("Quick try on your own data"), command for command, on a small MARS-layout set of
 * generated JPEGs: datasets generate → train-teacher → distill → evaluate --ranked --save-features --rerank →
 * vkd-metrics --rerank → report. Tiny model and frames so it runs in about a minute on one core.
 */
const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );
const readJson = async <T>(path: string) => JSON.parse(await readFile(path, 'utf8')) as T;

let work: string;
const at = (...parts: string[]) => join(work, ...parts);
const RUN = ['--device', 'wasm', '--threads', '1', '--test-frames', '2'];
const STAGE = [
  '--identities-per-batch',
  '2',
  '--instances-per-identity',
  '2',
  '--frames-per-tracklet',
  '2',
  '--epochs',
  '2',
  '--eval-every',
  '1',
  '--save-every',
  '1',
];
const outputs: Record<string, Awaited<ReturnType<typeof vkd>>> = {};

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'vkd-walkthrough-'));
  const steps: Array<[string, string[]]> = [
    [
      'generate',
      [
        'datasets',
        'generate',
        '--out',
        at('mine'),
        '--identities',
        '8',
        '--cameras',
        '3',
        '--frames-per-tracklet',
        '4',
        '--height',
        '64',
        '--width',
        '32',
      ],
    ],
    [
      'teacher',
      [
        'train-teacher',
        '--dataset',
        'mars',
        '--root',
        at('mine'),
        '--out',
        at('runs', 'teacher'),
        '--backbone',
        'resnet18',
        '--base-width',
        '4',
        '--height',
        '64',
        '--width',
        '32',
        '--imagenet-weights',
        'none',
        '--tensorboard',
        at('runs', 'tensorboard'),
        ...STAGE,
        ...RUN,
      ],
    ],
    [
      'distill',
      [
        'distill',
        '--dataset',
        'mars',
        '--root',
        at('mine'),
        '--teacher',
        at('runs', 'teacher'),
        '--out',
        at('runs', 'student'),
        '--student-frames',
        '1',
        '--tensorboard',
        at('runs', 'tensorboard'),
        ...STAGE,
        ...RUN,
      ],
    ],
    [
      'evaluate',
      [
        'evaluate',
        '--dataset',
        'mars',
        '--root',
        at('mine'),
        '--model',
        at('runs', 'student'),
        '--out',
        at('runs', 'student', 'eval'),
        '--ranked',
        '3',
        '--save-features',
        at('runs', 'student', 'features'),
        '--rerank',
        ...RUN,
      ],
    ],
    [
      'report',
      [
        'report',
        '--run',
        at('runs', 'student'),
        '--heatmaps',
        '2',
        '--ranked',
        '2',
        '--device',
        'wasm',
        '--threads',
        '1',
      ],
    ],
    ['reportEval', ['report', '--run', at('runs', 'student', 'eval'), '--heatmaps', '0']],
  ];
  for (const [name, argv] of steps) {
    outputs[name] = await vkd(argv);
    expect(outputs[name]?.code, `${name}: ${outputs[name]?.stderr}`).toBe(0);
  }
}, 300_000);

describe('README walk-through on a generated MARS-layout set', () => {
  it('every command prints what it does: start lines, ETA, input size, per-camera names', () => {
    expect(outputs.teacher?.stdout).toMatch(
      /teacher: P=2 identities × K=2 tracklets × N=2 frames = 8 frames of 64×32 per step; 2 steps per epoch/,
    );
    expect(outputs.teacher?.stdout).toMatch(/teacher: \d+\.\d\d s per step → about .* per epoch, ETA/);
    expect(outputs.distill?.stdout).toMatch(/^distill: teacher .*\(resnet18, 4 identities\)/m);
    expect(outputs.distill?.stdout).toContain(
      'input size: 64×32 from the model given to --teacher (model.json), not the preset/default 256×128',
    );
    expect(outputs.distill?.stdout).toMatch(/One query is 8\.33 rank-1 points here \(12 queries\)/);
    expect(outputs.evaluate?.stdout).toMatch(/I2V rank-1 by query camera: C1 \d+\.\d\d \(4 queries\), C2 .*, C3 /);
  });

  it('writes every promised file', async () => {
    const promised = [
      'runs/teacher/log.jsonl',
      'runs/teacher/settings.json',
      'runs/teacher/metrics.json',
      'runs/teacher/model/model.json',
      'runs/teacher/model/weights.safetensors',
      'runs/teacher/checkpoints/checkpoints.json',
      'runs/student/log.jsonl',
      'runs/student/settings.json',
      'runs/student/metrics.json',
      'runs/student/model/model.json',
      'runs/student/eval/metrics.json',
      'runs/student/eval/ranked-i2v.png',
      'runs/student/eval/ranked-v2v.png',
      'runs/student/features/query-images.npy',
      'runs/student/features/query-images-labels.csv',
      'runs/student/features/query-videos.npy',
      'runs/student/features/gallery.npy',
      'runs/student/features/gallery-labels.csv',
      'runs/student/features/features.json',
      'runs/student/report/index.html',
      'runs/student/report/cmc.png',
      'runs/student/report/losses.png',
      'runs/student/report/evaluation-curves.png',
      'runs/student/report/gallery-frames.png',
      'runs/student/report/per-camera.png',
      'runs/student/report/heatmaps.png',
      'runs/student/report/ranked-i2v.png',
      'runs/student/report/ranked-v2v.png',
      'runs/student/eval/report/index.html',
      'runs/student/eval/report/ranked-i2v.png',
    ];
    const missing = [];
    for (const file of promised) if (!(await exists(at(...file.split('/'))))) missing.push(file);
    expect(missing).toEqual([]);
    for (const stage of ['teacher', 'student'])
      expect((await readdir(at('runs', 'tensorboard', stage)))[0]).toMatch(/^events\.out\.tfevents\./);
    // Checkpoints embed the model directory, metadata included: a checkpoint is as usable as model/.
    const index = await readJson<{ latest: string }>(at('runs', 'student', 'checkpoints', 'checkpoints.json'));
    const checkpointModel = await readJson<{ metadata: { input: { height: number }; training: { stage: string } } }>(
      at('runs', 'student', 'checkpoints', index.latest, 'model', 'model.json'),
    );
    expect(checkpointModel.metadata.input.height).toBe(64);
    expect(checkpointModel.metadata.training.stage).toBe('student');
  });

  it("the report of a train-teacher → distill run has the teacher's losses and the Grad-CAM of both models", async () => {
    const html = await readFile(at('runs', 'student', 'report', 'index.html'), 'utf8');
    expect(html).toContain('teacher and student stages');
    expect(html).toContain('where the teacher and the student (VKD) look');
    expect(html).toContain('evaluation-curves.png');
    expect(html).not.toContain('<h2>Not drawn</h2>');
    expect(html).toContain('<img src="ranked-i2v.png"');
    expect(html).toContain('ranked results of the student: the 2 queries with the lowest AP');
    const evaluationReport = await readFile(at('runs', 'student', 'eval', 'report', 'index.html'), 'utf8');
    expect(evaluationReport).toContain('<img src="ranked-i2v.png"');
    expect(evaluationReport).toContain('<h2>Not drawn</h2>');
    expect(evaluationReport).toContain('no training logs: an evaluation directory holds metrics only');
    const heatmaps = await sharp(at('runs', 'student', 'report', 'heatmaps.png')).metadata();
    expect(heatmaps.width).toBeGreaterThan(64);
  });

  it('one name per metric: the --eval-every log, metrics.json and TensorBoard agree on mAP and mAPTrapezoid', async () => {
    const metrics = await readJson<RunMetrics>(at('runs', 'teacher', 'metrics.json'));
    const lines = (await readFile(at('runs', 'teacher', 'log.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    const last = lines.filter((line) => line.type === 'epoch').at(-1);
    // The last evaluation during training is of the final model: the same numbers under the same names.
    expect(last.metrics['i2v.mAP']).toBeCloseTo(metrics.teacher?.i2v.mAP as number, 6);
    expect(last.metrics['i2v.mAPTrapezoid']).toBeCloseTo(metrics.teacher?.i2v.mAPTrapezoid as number, 6);
    expect(
      metrics.teacher?.galleryFrames?.every(
        (point) => typeof point.mAPTrapezoid === 'number' && point.mAP !== point.mAPTrapezoid,
      ),
    ).toBe(true);
    const eventFile = at(
      'runs',
      'tensorboard',
      'teacher',
      (await readdir(at('runs', 'tensorboard', 'teacher')))[0] as string,
    );
    const scalars = readTensorBoardEvents(eventFile).flatMap((event) =>
      event.scalars.map((scalar) => ({ ...scalar, step: event.step })),
    );
    expect(scalars.filter((scalar) => scalar.tag === 'loss/total').map((scalar) => scalar.step)).toEqual([1, 2, 3, 4]);
    const lastMap = scalars.filter((scalar) => scalar.tag === 'eval/i2v.mAP').at(-1);
    expect(lastMap?.value).toBeCloseTo(metrics.teacher?.i2v.mAP as number, 6);
  });

  it("vkd-metrics reproduces evaluate's numbers from --save-features, with and without --rerank", async () => {
    const metrics = await readJson<RunMetrics>(at('runs', 'student', 'eval', 'metrics.json'));
    const features = at('runs', 'student', 'features');
    const args = [
      '--query',
      join(features, 'query-images.npy'),
      '--gallery',
      join(features, 'gallery.npy'),
      '--query-labels',
      join(features, 'query-images-labels.csv'),
      '--gallery-labels',
      join(features, 'gallery-labels.csv'),
      '--json',
    ];
    for (const [extra, expected] of [
      [[], metrics.model?.i2v],
      [['--rerank'], metrics.model?.reranked?.i2v],
    ] as const) {
      let stdout = '';
      const code = runMetricsCli([...args, ...extra], { stdout: (text) => (stdout += text), stderr: () => undefined });
      expect(code).toBe(0);
      const result = JSON.parse(stdout) as { mAP: number; mAPTrapezoid: number; cmc: number[] };
      expect(result.mAP).toBeCloseTo(expected?.mAP as number, 6);
      expect(result.mAPTrapezoid).toBeCloseTo(expected?.mAPTrapezoid as number, 6);
      expect(result.cmc[0]).toBeCloseTo(expected?.rank1 as number, 6);
    }
  });
});
