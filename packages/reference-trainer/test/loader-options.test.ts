import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadRunDataset } from '../src/run/load-run-dataset';
import { syntheticSetInTempFolder } from './support/synthetic-set';
import { tinyTraining } from './support/tiny-training';
import { vkd } from './support/vkd';

// What each loader a command creates was given. The loaders are the real ones (the spy passes every call through);
// `evaluation` are createEvaluationLoader calls, `tracklet` createTrackletLoader calls made by the CLI (training).
const seen = vi.hoisted(() => [] as { kind: 'tracklet' | 'evaluation'; workers?: number; prefetch?: number }[]);
vi.mock('@vkd/datasets/node', async (importOriginal) => {
  const real = await importOriginal<typeof import('@vkd/datasets/node')>();
  return {
    ...real,
    createTrackletLoader: (options: Parameters<typeof real.createTrackletLoader>[0]) => {
      seen.push({ kind: 'tracklet', workers: options.workers, prefetch: options.prefetch });
      return real.createTrackletLoader(options);
    },
    createEvaluationLoader: (...args: Parameters<typeof real.createEvaluationLoader>) => {
      seen.push({ kind: 'evaluation', workers: args[1].workers, prefetch: args[1].prefetch });
      return real.createEvaluationLoader(...args);
    },
  };
});

let directory: string;
let root: string;

beforeAll(async () => {
  ({ directory, root } = await syntheticSetInTempFolder('vkd-loader-options-', {
    identities: 4,
    cameras: 2,
    framesPerTracklet: 2,
    height: 32,
    width: 16,
  }));
}, 60_000);

beforeEach(() => {
  seen.length = 0;
});

/** A one-epoch teacher on the tiny set (augmentation on, so the workers also augment). */
const teacherArgs = (out: string, extra: string[]) => [
  'train-teacher',
  ...tinyTraining({ height: 32, width: 16, framesPerTracklet: 2 }),
  '--dataset',
  'synthetic',
  '--root',
  root,
  '--test-frames',
  '2',
  '--imagenet-weights',
  'none',
  '--quiet',
  '--out',
  out,
  ...extra,
];

/** The log lines without their timing fields. */
async function losses(run: string): Promise<unknown[]> {
  const lines = (await readFile(join(run, 'log.jsonl'), 'utf8')).trim().split('\n');
  return lines.map((line) => {
    const { time: _time, seconds: _seconds, imagesPerSecond: _speed, ...rest } = JSON.parse(line);
    return rest;
  });
}

const readJson = async (path: string) => JSON.parse(await readFile(path, 'utf8'));

describe('--workers and --prefetch', () => {
  it('are validated against the loader limits, on the command line and in a config file', async () => {
    const cases: [string[], RegExp][] = [
      [['--workers', '257'], /Invalid --workers: 257\. Must be ≤ 256/],
      [['--workers', '-1'], /Invalid --workers: -1\. Must be ≥ 0/],
      [['--workers', '1.5'], /Invalid --workers: "1\.5"\. Expected an integer/],
      [['--prefetch', '-1'], /Invalid --prefetch: -1\. Must be ≥ 0/],
      [['--prefetch', '100000'], /Invalid --prefetch: 100000\. Must be ≤ 16/],
      [['--prefetch', 'two'], /Invalid --prefetch: "two"\. Expected an integer/],
    ];
    for (const [flags, message] of cases) {
      const result = await vkd(['evaluate', ...flags]);
      expect(result.code, flags.join(' ')).toBe(2);
      expect(result.stderr, flags.join(' ')).toMatch(message);
    }
    await writeFile(join(directory, 'bad.yaml'), 'workers: 300\n');
    const bad = await vkd(['train-teacher', '--config', 'bad.yaml'], directory);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/Invalid workers in bad\.yaml: 300\. Must be ≤ 256/);
    for (const command of ['train-teacher', 'distill', 'evaluate', 'demo', 'index', 'search', 'report']) {
      const help = await vkd([command, '--help']);
      expect(help.stdout, command).toMatch(/--workers <n> +frame worker threads/);
      expect(help.stdout, command).toMatch(/--prefetch <n> +batches read ahead.*\(default: 2\)/);
    }
    expect(seen).toEqual([]);
  });

  it('reach every loader of train-teacher and evaluate, give bit-identical losses and metrics, and --resume accepts a change', async () => {
    // Run A: from a config file, no worker threads, nothing read ahead.
    await writeFile(join(directory, 'loader.yaml'), 'workers: 0\nprefetch: 0\n');
    const runA = join(directory, 'a');
    const a = await vkd(teacherArgs(runA, ['--config', 'loader.yaml']), directory);
    expect(a.stderr).toBe('');
    expect(a.code).toBe(0);
    expect(new Set(seen.map((call) => call.kind))).toEqual(new Set(['tracklet', 'evaluation']));
    expect(seen.every((call) => call.workers === 0 && call.prefetch === 0)).toBe(true);
    // Run B: two worker threads, three batches ahead.
    seen.length = 0;
    const runB = join(directory, 'b');
    const b = await vkd(teacherArgs(runB, ['--workers', '2', '--prefetch', '3']));
    expect(b.code).toBe(0);
    expect(new Set(seen.map((call) => call.kind))).toEqual(new Set(['tracklet', 'evaluation']));
    expect(seen.every((call) => call.workers === 2 && call.prefetch === 3)).toBe(true);
    expect(await losses(runB)).toEqual(await losses(runA));
    const metricsA = await readJson(join(runA, 'metrics.json'));
    expect((await readJson(join(runB, 'metrics.json'))).teacher).toEqual(metricsA.teacher);
    expect((await readJson(join(runA, 'settings.json'))).data).toMatchObject({ workers: 0, prefetch: 0 });
    expect((await readJson(join(runB, 'settings.json'))).data).toMatchObject({ workers: 2, prefetch: 3 });

    // evaluate with worker threads: the metrics train-teacher measured without them.
    seen.length = 0;
    const evaluated = join(directory, 'eval');
    const evaluation = await vkd([
      'evaluate',
      '--device',
      'cpu',
      '--dataset',
      'synthetic',
      '--root',
      root,
      '--model',
      runA,
      '--test-frames',
      '2',
      '--workers',
      '1',
      '--prefetch',
      '1',
      '--quiet',
      '--out',
      evaluated,
    ]);
    expect(evaluation.stderr).toBe('');
    expect(evaluation.code).toBe(0);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((call) => call.kind === 'evaluation' && call.workers === 1 && call.prefetch === 1)).toBe(true);
    expect((await readJson(join(evaluated, 'metrics.json'))).model).toEqual(metricsA.teacher);

    // --resume with other loader settings is accepted (and recorded); a result-changing setting still is not.
    const refused = await vkd(teacherArgs(runA, ['--resume', '--epochs', '2', '--seed', '5']));
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--seed 1897 → 5/);
    const resumed = await vkd(teacherArgs(runA, ['--resume', '--epochs', '2', '--workers', '1', '--prefetch', '2']));
    expect(resumed.stderr).toBe('');
    expect(resumed.code).toBe(0);
    expect((await readJson(join(runA, 'settings.json'))).data).toMatchObject({ workers: 1, prefetch: 2 });
  }, 240_000);

  it('reach the loaders of distill, index, search and report --ranked', async () => {
    const model = join(directory, 'a'); // the teacher run A of the test above
    const image = (await loadRunDataset('synthetic', root)).gallery[0]?.frames[0] as string;
    const loader = ['--workers', '1', '--prefetch', '0', '--device', 'cpu', '--quiet'];
    const db = join(directory, 'gallery');
    const student = [
      ...['--teacher', model, '--dataset', 'synthetic', '--root', root, '--out', join(directory, 'student')],
      ...['--epochs', '1', '--identities-per-batch', '2', '--instances-per-identity', '1'],
      ...['--frames-per-tracklet', '2', '--student-frames', '1', '--test-frames', '2', '--imagenet-weights', 'none'],
    ];
    const checks: [string, string[]][] = [
      ['distill', student],
      ['index', ['--model', model, '--dataset', 'synthetic', '--root', root, '--db', db, '--test-frames', '2']],
      ['search', ['--db', db, '--model', model, '--image', image]],
      ['report', ['--run', model, '--out', join(directory, 'report'), '--heatmaps', '0', '--ranked', '1']],
    ];
    for (const [command, args] of checks) {
      seen.length = 0;
      const result = await vkd([command, ...args, ...loader]);
      expect(result.code, `${command}: ${result.stderr}`).toBe(0);
      expect(seen.length, command).toBeGreaterThan(0);
      expect(
        seen.every((call) => call.workers === 1 && call.prefetch === 0),
        command,
      ).toBe(true);
      if (command === 'distill')
        expect(new Set(seen.map((call) => call.kind))).toEqual(new Set(['tracklet', 'evaluation']));
    }
  }, 240_000);
});
