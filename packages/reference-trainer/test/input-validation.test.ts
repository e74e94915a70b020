import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { syntheticSetInTempFolder } from './support/synthetic-set';
import { vkd } from './support/vkd';

// Backend selection probes tfjs-node, Dawn and wasm (slow, and noisy on stderr): the user's paths must be checked
// before it. The mock records whether a command got that far.
const activateDevice = vi.hoisted(() =>
  vi.fn(async () => {
    throw new Error('backend selected');
  }),
);
vi.mock('../src/run/activate-device', () => ({ activateDevice }));

let root: string;
let directory: string;

beforeAll(async () => {
  ({ directory, root } = await syntheticSetInTempFolder('vkd-inputs-', {
    identities: 4,
    cameras: 2,
    framesPerTracklet: 2,
    height: 16,
    width: 16,
  }));
});

beforeEach(() => {
  activateDevice.mockClear();
});

describe('input paths are checked before the backend is selected', () => {
  it('vkd evaluate: a missing --root, then a missing or empty --model', async () => {
    const missingRoot = await vkd([
      'evaluate',
      '--dataset',
      'mars',
      '--root',
      join(directory, 'no-such-root'),
      '--model',
      directory,
    ]);
    expect(missingRoot.code).toBe(1);
    expect(missingRoot.stderr).toMatch(/DatasetNotFoundError: Dataset files not found under .*no-such-root/);
    const missingModel = await vkd([
      'evaluate',
      '--dataset',
      'synthetic',
      '--root',
      root,
      '--model',
      join(directory, 'no-such-model'),
    ]);
    expect(missingModel.code).toBe(2);
    expect(missingModel.stderr).toMatch(
      /Invalid --model: ".*no-such-model". No such directory; give a run directory \(with model\/\) or a model directory/,
    );
    const notAModel = await vkd(['evaluate', '--dataset', 'synthetic', '--root', root, '--model', root]);
    expect(notAModel.code).toBe(2);
    expect(notAModel.stderr).toMatch(
      /Invalid --model: ".*data". No model there \(neither model.json nor model\/model.json\)/,
    );
    expect(activateDevice).not.toHaveBeenCalled();
  });

  it('vkd train-teacher: a missing --root', async () => {
    const { code, stderr } = await vkd([
      'train-teacher',
      '--preset',
      'demo-quick',
      '--root',
      join(directory, 'typo'),
      '--out',
      join(directory, 'run'),
    ]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/DatasetNotFoundError: Dataset files not found under .*typo/);
    expect(activateDevice).not.toHaveBeenCalled();
  });

  it('vkd distill: a missing --root, --teacher, --student or --imagenet-weights', async () => {
    // A run directory as train-teacher leaves it (only the manifest matters: nothing is loaded before the backend).
    const teacher = join(directory, 'teacher');
    await mkdir(join(teacher, 'model'), { recursive: true });
    await writeFile(join(teacher, 'model', 'model.json'), '{}');
    const base = ['distill', '--preset', 'demo-quick', '--out', join(directory, 'student')];
    const cases: Array<[string[], number, RegExp]> = [
      [['--root', join(directory, 'typo'), '--teacher', teacher], 1, /DatasetNotFoundError/],
      [
        ['--root', root, '--teacher', join(directory, 'no-teacher')],
        2,
        /Invalid --teacher: ".*no-teacher". No such directory/,
      ],
      [['--root', root, '--teacher', root], 2, /Invalid --teacher: .* No model there/],
      [
        ['--root', root, '--teacher', teacher, '--student', join(directory, 'no-student')],
        2,
        /Invalid --student: ".*no-student". No such directory/,
      ],
      [
        ['--root', root, '--teacher', teacher, '--imagenet-weights', join(directory, 'r50')],
        2,
        /Invalid --imagenet-weights: ".*r50". No such directory/,
      ],
    ];
    for (const [argv, exitCode, pattern] of cases) {
      const { code, stderr } = await vkd([...base, ...argv]);
      expect(code, argv.join(' ')).toBe(exitCode);
      expect(stderr, argv.join(' ')).toMatch(pattern);
    }
    expect(activateDevice).not.toHaveBeenCalled();
  });

  it('vkd import-weights: a missing --source or a directory as --source', async () => {
    const missing = await vkd([
      'import-weights',
      '--source',
      join(directory, 'chk_end.safetensors'),
      '--out',
      join(directory, 'model'),
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(
      /Invalid --source: ".*chk_end.safetensors". No such file or folder; give the weights file \(.pth, .pt, .safetensors\) or the authors' run folder/,
    );
    // A folder is taken as one of the authors' run folders: without params/hparams.json it says what that holds.
    const folder = await vkd(['import-weights', '--source', directory, '--out', join(directory, 'model')]);
    expect(folder.code).toBe(1); // a data error (the folder's content), not a usage error
    expect(folder.stderr).toMatch(
      /has no params\/hparams.json\. An authors' run folder .* holds chk\/<checkpoint> and params\/hparams.json/,
    );
    expect(activateDevice).not.toHaveBeenCalled();
  });

  it('selects the backend once the inputs exist', async () => {
    const weights = join(directory, 'weights.safetensors');
    await writeFile(weights, 'x');
    const { code, stderr } = await vkd(['import-weights', '--source', weights, '--out', join(directory, 'model')]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/backend selected/);
    expect(activateDevice).toHaveBeenCalledTimes(1);
  });
});
