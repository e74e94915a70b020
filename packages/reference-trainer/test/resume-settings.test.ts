import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CheckpointError, FileFormatError, InvalidOptionError } from '@vkd/core';
import { describe, expect, it } from 'vitest';
import {
  changedSettings,
  checkpointToResume,
  checkResumeSettings,
  readStageSettings,
  type RecordedStageSettings,
} from '../src/run/resume-settings';

// Issue #13 item 6: --resume once accepted a changed seed, input size, P×K, frames per tracklet or fewer epochs than
// the checkpoint, and overwrote settings.json with them.
const RECORDED: RecordedStageSettings = {
  stage: 'teacher',
  data: { dataset: 'synthetic', root: '/data', height: 16, width: 16, seed: 1897, testBatch: 64 },
  training: { epochs: 12, identitiesPerBatch: 2, instancesPerIdentity: 1, framesPerTracklet: 1, learningRate: 3e-4 },
  model: { backbone: 'resnet18', baseWidth: 4 },
};

function changed(group: 'data' | 'training' | 'model', values: Record<string, unknown>): RecordedStageSettings {
  return { ...RECORDED, [group]: { ...RECORDED[group], ...values } };
}

describe('checkResumeSettings', () => {
  it('refuses each result-changing difference, naming the flag, both values and --allow-changed', () => {
    const cases: Array<[RecordedStageSettings, RegExp]> = [
      [changed('data', { seed: 2 }), /--seed 1897 → 2\. .*--allow-changed seed\.$/],
      [changed('data', { height: 32 }), /--height 16 → 32\..*--allow-changed height\.$/],
      [changed('training', { identitiesPerBatch: 4 }), /--identities-per-batch 2 → 4\./],
      [changed('training', { instancesPerIdentity: 2 }), /--instances-per-identity 1 → 2\./],
      [changed('training', { framesPerTracklet: 2 }), /--frames-per-tracklet 1 → 2\./],
      [changed('model', { baseWidth: 8 }), /--base-width 4 → 8\./],
    ];
    for (const [current, message] of cases) {
      const attempt = () => checkResumeSettings(RECORDED, current, []);
      expect(attempt).toThrow(InvalidOptionError);
      expect(attempt).toThrow(message);
    }
    // Two at once: both named in one message.
    expect(() => checkResumeSettings(RECORDED, changed('data', { seed: 2, width: 8 }), [])).toThrow(
      /--width 16 → 8, --seed 1897 → 2|--seed 1897 → 2, --width 16 → 8/,
    );
  });

  it('accepts the settings that do not change the result, and a change named in --allow-changed', () => {
    const neutral = changed('training', { epochs: 20 });
    expect(checkResumeSettings(RECORDED, { ...neutral, data: { ...neutral.data, testBatch: 8 } }, [])).toEqual([]);
    expect(checkResumeSettings(RECORDED, changed('data', { seed: 2 }), ['seed'])).toEqual([
      { path: 'data.seed', key: 'seed', recorded: 1897, current: 2 },
    ]);
    expect(checkResumeSettings(RECORDED, changed('training', { learningRate: 1e-3 }), ['learning-rate'])).toHaveLength(
      1,
    );
    expect(() => checkResumeSettings(RECORDED, { ...RECORDED, stage: 'student' }, [])).toThrow(
      /is a teacher stage, not student/,
    );
    // A key present on one side only is a difference too.
    expect(changedSettings(RECORDED, changed('data', { trackletGrouping: 'tracklet' }))).toEqual([
      { path: 'data.trackletGrouping', key: 'trackletGrouping', recorded: undefined, current: 'tracklet' },
    ]);
  });
});

describe('checkpointToResume', () => {
  const index = {
    latest: 'epoch-0012',
    lastGood: 'epoch-0010',
    checkpoints: [
      { name: 'epoch-0010', nextEpoch: 10 },
      { name: 'epoch-0012', nextEpoch: 12 },
    ],
  };

  it('continues from the last good checkpoint, never with fewer epochs than it has trained', () => {
    expect(checkpointToResume(index, '/run/checkpoints', 12)).toEqual({ name: 'epoch-0010', nextEpoch: 10 });
    expect(checkpointToResume({ ...index, lastGood: undefined }, '/run/checkpoints', 12)).toEqual({
      name: 'epoch-0012',
      nextEpoch: 12,
    });
    expect(() => checkpointToResume(index, '/run/checkpoints', 3)).toThrow(
      'Invalid --epochs: 3. The checkpoint epoch-0010 to resume from has already trained 10 epochs; pass --epochs 10 or more.',
    );
    expect(() => checkpointToResume(undefined, '/run/checkpoints', 3)).toThrow(CheckpointError);
    expect(() => checkpointToResume({ checkpoints: [] }, '/run/checkpoints', 3)).toThrow(
      /no checkpoint to resume from/,
    );
  });
});

describe('readStageSettings', () => {
  it('names a missing, damaged or duplicated-key settings.json', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'vkd-resume-'));
    const path = join(directory, 'settings.json');
    await expect(readStageSettings(path, directory)).rejects.toThrow(/has no readable settings\.json/);
    await writeFile(path, JSON.stringify(RECORDED));
    expect(await readStageSettings(path, directory)).toEqual(RECORDED);
    await writeFile(path, '{"stage": "teacher"}');
    await expect(readStageSettings(path, directory)).rejects.toThrow(FileFormatError);
    await writeFile(path, JSON.stringify(RECORDED).replace('"seed":1897', '"seed":1897,"seed":2'));
    await expect(readStageSettings(path, directory)).rejects.toThrow(
      /settings\.json: is not a stage settings file: duplicate key "seed" in data at line 1/,
    );
  });
});
