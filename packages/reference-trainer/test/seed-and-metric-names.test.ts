import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { createRandom, InvalidOptionError, MAX_SEED } from '@vkd/core';
import type { ReidDataset } from '@vkd/datasets';
import { createReidModel } from '@vkd/models';
import { useBackend } from '@vkd/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../src/cli/commands';
import { runCli } from '../src/cli/run-cli';
import { coerceOptionValue } from '../src/options/coerce-option-value';
import { flagName } from '../src/options/option-spec';
import { evaluateRun } from '../src/run/evaluate-run';
import { BEST_CHECKPOINT_METRIC, evaluationHook } from '../src/run/evaluation-hook';
import { loadRunDataset } from '../src/run/load-run-dataset';
import { createRunLog } from '../src/run/run-log';

// Issue #13 item 10: seeds aliased modulo 2^32 (--seed 4294967297 = --seed 1, 1e300 = 0) while settings.json recorded
// the large value; the --eval-every hook logged the trapezoid mAP as i2v.mAP and picked the best checkpoint by it.
describe('every seed option of every command is 0..MAX_SEED (the generator state is 32 bits)', () => {
  const seedOptions = COMMANDS.flatMap((command) =>
    command.options.filter((spec) => /seed/i.test(spec.key)).map((spec) => ({ command: command.name, spec })),
  );

  it('declares the range, and refuses the values that would alias another seed', () => {
    expect(createRandom(MAX_SEED + 2).next()).toBe(createRandom(1).next()); // why: the state is seed >>> 0
    expect(seedOptions.length).toBeGreaterThanOrEqual(4);
    for (const { command, spec } of seedOptions) {
      expect([spec.min, spec.max], `${command} ${flagName(spec.key)}`).toEqual([0, MAX_SEED]);
      const flag = flagName(spec.key);
      for (const value of ['4294967296', '4294967297', '1e300', '-1']) {
        const attempt = () => coerceOptionValue(spec, value, flag);
        expect(attempt, `${command} ${flag} ${value}`).toThrow(InvalidOptionError);
        if (spec.kind === 'integer') expect(attempt).toThrow(/Must be (≤ 4294967295|≥ 0)/);
      }
      const largest = spec.kind === 'integer' ? String(MAX_SEED) : `0,${MAX_SEED}`;
      expect(coerceOptionValue(spec, largest, flag), `${command} ${flag}`).toEqual(
        spec.kind === 'integer' ? MAX_SEED : [0, MAX_SEED],
      );
    }
  });
});

describe('the --eval-every hook names metrics as metrics.json does', () => {
  let dataset: ReidDataset;
  const data = {
    dataset: 'synthetic',
    root: '',
    skipBadFrames: false,
    height: 16,
    width: 16,
    testFrames: 2,
    testBatch: 16,
    seed: 0,
    workers: 0,
    prefetch: 0,
  };
  const io = { stdout: { write: () => true }, stderr: { write: () => true }, env: { CI: 'true' }, cwd: tmpdir() };

  beforeAll(async () => {
    await useBackend('cpu');
    const root = join(await mkdtemp(join(tmpdir(), 'vkd-eval-hook-')), 'data');
    const generate = ['datasets', 'generate', '--out', root, '--identities', '8', '--cameras', '2'];
    const size = ['--frames-per-tracklet', '2', '--height', '16', '--width', '16', '--quiet'];
    expect(await runCli([...generate, ...size], io, COMMANDS)).toBe(0);
    dataset = await loadRunDataset('synthetic', root);
  }, 60_000);

  it('i2v.mAP is the non-interpolated mAP, i2v.mAPTrapezoid the trapezoid one; the best checkpoint is by the latter', async () => {
    const model = createReidModel({ backbone: 'resnet18', baseWidth: 4, numIdentities: 4, seed: 3 });
    const log = createRunLog(io, true);
    const expected = await evaluateRun(model, dataset, { ...data, root: dataset.root }, log, 'reference', []);
    const metrics: Record<string, number> = {};
    const hook = evaluationHook(model, dataset, { ...data, root: dataset.root }, 1, log, 'teacher');
    type Arguments = Parameters<NonNullable<typeof hook.afterEpoch>>;
    const afterEpoch = () =>
      hook.afterEpoch?.({ epoch: 0, metrics } as unknown as Arguments[0], { metrics } as unknown as Arguments[1]);
    await afterEpoch();
    for (const protocol of ['i2v', 'v2v'] as const) {
      expect(metrics[`${protocol}.mAP`]).toBe(expected[protocol]?.mAP);
      expect(metrics[`${protocol}.mAPTrapezoid`]).toBe(expected[protocol]?.mAPTrapezoid);
      expect(metrics[`${protocol}.rank1`]).toBe(expected[protocol]?.rank1);
    }
    // The two mAPs differ here, so a swap of names could not pass unnoticed.
    expect(expected.i2v?.mAP).not.toBe(expected.i2v?.mAPTrapezoid);
    expect(BEST_CHECKPOINT_METRIC).toBe('i2v.mAPTrapezoid');
    expect(Object.keys(metrics)).toContain(BEST_CHECKPOINT_METRIC);
    const before = tf.memory().numTensors;
    await afterEpoch();
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  }, 60_000);
});
