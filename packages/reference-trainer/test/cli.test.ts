import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../src/cli/commands';
import { resolveCommandInput } from '../src/cli/run-cli';
import { flagName } from '../src/options/option-spec';
import { generateSyntheticSet } from './support/synthetic-set';
import { tinyTraining } from './support/tiny-training';
import { vkd } from './support/vkd';

const command = (name: string) => {
  const found = COMMANDS.find((candidate) => candidate.name === name);
  if (!found) throw new Error(`no command ${name}`);
  return found;
};

describe('vkd help', () => {
  it('lists every subcommand', async () => {
    const { code, stdout } = await vkd(['--help']);
    expect(code).toBe(0);
    for (const name of ['demo', 'train-teacher', 'distill', 'evaluate', 'import-weights', 'report', 'datasets'])
      expect(stdout).toContain(`  ${name}`);
    expect((await vkd([])).code).toBe(2);
  });

  it('prints --help for every command with all of its flags', async () => {
    for (const definition of COMMANDS) {
      const { code, stdout } = await vkd([definition.name, '--help']);
      expect(code, definition.name).toBe(0);
      expect(stdout).toContain(`Usage: vkd ${definition.name}`);
      for (const option of definition.options)
        expect(stdout, `${definition.name} ${option.key}`).toContain(flagName(option.key));
    }
    expect((await vkd(['help', 'distill'])).stdout).toContain('Usage: vkd distill');
  });

  it('vkd help <unknown command> exits 2 and lists the commands', async () => {
    const bogus = await vkd(['help', 'bogus']);
    expect(bogus.code).toBe(2);
    expect(bogus.stdout).toBe('');
    expect(bogus.stderr).toContain(
      'vkd help: Unknown command "bogus". Expected one of: "demo", "train-teacher", "distill", "evaluate"',
    );
    expect(bogus.stderr).toContain('Run `vkd --help` for the list of commands');
    const extra = await vkd(['help', 'distill', 'evaluate']);
    expect(extra.code).toBe(2);
    expect(extra.stderr).toMatch(/vkd help takes one command name/);
    const general = await vkd(['help']);
    expect(general.code).toBe(0);
    expect(general.stdout).toContain('Usage: vkd <command> [options]');
  });

  it('shows defaults and choices', async () => {
    const { stdout } = await vkd(['train-teacher', '--help']);
    expect(stdout).toMatch(/--device <auto\|tensorflow\|webgpu\|wasm\|cpu>\s+compute backend.*\(default: "auto"\)/);
    expect(stdout).toContain('mars-resnet50');
  });

  it('lists the --no- form of options that are on by default (--no-augment)', async () => {
    const { stdout } = await vkd(['train-teacher', '--help']);
    expect(stdout).toMatch(/--augment, --no-augment\s+pad\+crop, flip, random erasing per frame/);
    expect((await vkd(['demo', '--help'])).stdout).toContain('--report, --no-report');
    expect(stdout).not.toContain('--no-resume'); // off by default: nothing to negate
  });
});

describe('vkd usage errors (exit 2, message names the option)', () => {
  it('rejects an unknown command', async () => {
    const { code, stderr } = await vkd(['trian-teacher']);
    expect(code).toBe(2);
    expect(stderr).toContain('Unknown command "trian-teacher". Expected one of: "demo", "train-teacher"');
  });

  it('rejects bad flag values before doing any work', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['train-teacher', '--epochs', 'abc'], /Invalid --epochs: "abc". Expected an integer/],
      [
        ['train-teacher', '--device', 'tpu'],
        /Invalid --device: "tpu". Expected one of: auto, tensorflow, webgpu, wasm, cpu/,
      ],
      [['distill', '--kd-weight', '-1'], /Invalid --kd-weight: -1. Must be ≥ 0/],
      [
        ['train-teacher', '--preset', 'mars-resnet51'],
        /Invalid --preset: "mars-resnet51". Expected one of: mars-resnet18, mars-resnet34/,
      ],
      [['demo', '--preset', 'demo'], /Unknown option "--preset"/],
      [['train-teacher', '--dataset', 'imagenet'], /Invalid --dataset: "imagenet". Expected one of: mars, duke-video/],
      [['datasets'], /vkd datasets expects one action: stats or generate/],
      [['datasets', 'count'], /Invalid action: "count". Use `vkd datasets stats/],
      [['train-teacher', 'extra'], /takes no positional arguments/],
      [['demo', '--threads', '0'], /Invalid --threads: 0/],
    ];
    for (const [argv, pattern] of cases) {
      const { code, stderr } = await vkd(argv);
      expect(code, argv.join(' ')).toBe(2);
      expect(stderr, argv.join(' ')).toMatch(pattern);
    }
  });

  it('rejects missing required options, naming them', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['train-teacher', '--dataset', 'mars', '--root', '/data'], /--out is required/],
      [['train-teacher', '--out', '/tmp/x', '--root', '/data'], /--dataset is required/],
      [['distill', '--out', '/tmp/x', '--preset', 'mars-resnet50', '--root', '/data'], /--teacher is required/],
      [['evaluate', '--dataset', 'mars', '--root', '/data'], /--model is required/],
      [['report'], /--run is required/],
      [['import-weights', '--out', '/tmp/x'], /--source is required/],
      [
        [
          'train-teacher',
          '--preset',
          'mars-resnet50',
          '--root',
          '/data',
          '--out',
          '/tmp/x',
          '--epochs',
          '10',
          '--milestones',
          '20',
        ],
        /Milestone 20 is not before the last epoch/,
      ],
      [
        [
          'distill',
          '--preset',
          'mars-resnet50',
          '--root',
          '/d',
          '--out',
          '/o',
          '--teacher',
          '/t',
          '--student-frames',
          '9',
        ],
        /Invalid --student-frames: 9/,
      ],
      [
        ['train-teacher', '--preset', 'mars-resnet18', '--attention', 'bam', '--root', '/d', '--out', '/o'],
        /Invalid --attention: "bam". BAM is defined for resnet50, resnet101 \(as in VKD\), not resnet18/,
      ],
    ];
    for (const [argv, pattern] of cases) {
      const { code, stderr } = await vkd(argv);
      expect(code, argv.join(' ')).toBe(2);
      expect(stderr, argv.join(' ')).toMatch(pattern);
    }
  });

  it('says what is missing and what to pass, never "Invalid --x: undefined"', async () => {
    const cases: Array<[string[], RegExp]> = [
      [
        ['train-teacher', '--dataset', 'mars', '--root', '/data'],
        /^vkd train-teacher: --out is required: pass the run directory to write checkpoints, logs and the model to, e\.g\. --out runs\/teacher\.$/m,
      ],
      [
        ['train-teacher', '--out', '/tmp/x'],
        /^vkd train-teacher: --dataset is required: pass the dataset loader, e\.g\. --dataset mars \(one of: mars, duke-video, .*\), or a --preset that sets it\.$/m,
      ],
      [
        ['train-teacher', '--out', '/tmp/x', '--dataset', 'mars'],
        /--root is required: pass the dataset root directory, e\.g\. --root \.\/datasets\/mars\./,
      ],
      [
        ['evaluate', '--dataset', 'mars', '--root', '/data'],
        /--model is required: pass the model directory \(or a run directory holding model\/\) to evaluate/,
      ],
      [
        ['train-teacher', '--dataset', 'mars', '--out'],
        /^vkd train-teacher: --out was given without a value: pass the output directory after it, as `--out <dir>` or `--out=<dir>`\.$/m,
      ],
      [
        ['train-teacher', '--root', '--out', '/tmp/x'],
        /--root was given without a value: pass the dataset root directory after it, as `--root <dir>`/,
      ],
      [['datasets', 'generate'], /--out is required: pass the directory to write the synthetic set to/],
    ];
    for (const [argv, pattern] of cases) {
      const { code, stderr } = await vkd(argv);
      expect(code, argv.join(' ')).toBe(2);
      expect(stderr, argv.join(' ')).toMatch(pattern);
      expect(stderr, argv.join(' ')).not.toMatch(/undefined/);
    }
  });

  it('reports a YAML syntax error with file, line, what is wrong and what to do (no dangling colon)', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'vkd-cli-'));
    await writeFile(join(directory, 'run.yaml'), 'preset: mars-resnet50\nepochs: 30\nmilestones: 10: 20\n');
    const { code, stderr } = await vkd(['train-teacher', '--config', 'run.yaml'], directory);
    expect(code).toBe(2);
    const [first] = stderr.split('\n');
    expect(first).toMatch(
      /^vkd train-teacher: .*run\.yaml:3: Invalid YAML at line 3, column \d+: Nested mappings are not allowed in compact mappings \(the line reads `milestones: 10: 20`\)\. Write one `key: value` per line/,
    );
    expect(first).not.toMatch(/:\s*$/);
  });

  it('reports a missing --run directory for report', async () => {
    const { code, stderr } = await vkd(['report', '--run', '/nonexistent/run']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/Invalid --run: "\/nonexistent\/run". No metrics.json there/);
  });

  it('names the config key and file for bad config values', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'vkd-cli-'));
    await writeFile(join(directory, 'teacher.yaml'), 'preset: mars-resnet50\nepochs: lots\n');
    await writeFile(join(directory, 'typo.yaml'), 'learning_rate: 0.1\n');
    await writeFile(join(directory, 'broken.json'), '{ "epochs": 3, }');
    const bad = await vkd(['train-teacher', '--config', 'teacher.yaml'], directory);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('Invalid epochs in teacher.yaml: "lots". Expected an integer.');
    const typo = await vkd(['train-teacher', '--config', 'typo.yaml'], directory);
    expect(typo.stderr).toMatch(/Unknown key in typo.yaml "learning_rate". Expected one of: .*"learningRate"/);
    const broken = await vkd(['train-teacher', '--config', 'broken.json'], directory);
    expect(broken.stderr).toMatch(/broken.json:1: Invalid JSON/);
    await writeFile(join(directory, 'preset.yaml'), 'preset: demo-quik\n');
    const preset = await vkd(['train-teacher', '--config', 'preset.yaml'], directory);
    expect(preset.code).toBe(2);
    expect(preset.stderr).toMatch(/Unknown preset in preset.yaml "demo-quik". Expected one of: .*"demo-quick"/);
  });
});

describe("vkd failures on the user's files (exit 1 or 2, no stack trace)", () => {
  it('reports an --out below a regular file as a file-system problem, not an internal error', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'vkd-cli-'));
    await writeFile(join(directory, 'a-file'), 'x');
    const { code, stderr } = await vkd(['datasets', 'generate', '--out', join(directory, 'a-file', 'set')]);
    expect(code).toBe(1);
    expect(stderr).toMatch(
      /^vkd datasets: ENOTDIR: not a directory.*a-file.*\(a path component is a file, not a directory\)/,
    );
    expect(stderr).not.toMatch(/unexpected error|\n\s+at /);
  });

  it('refuses a second datasets generate into a folder another is writing, naming the first', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'vkd-cli-'));
    const out = join(directory, 'set');
    const generate = (seed: string) =>
      generateSyntheticSet(out, { identities: 4, cameras: 2, framesPerTracklet: 2, height: 16, width: 8 }, [
        '--seed',
        seed,
      ]);
    const results = await Promise.all([generate('1'), generate('2')]);
    expect(results.map((result) => result.code).sort()).toEqual([0, 1]);
    const refused = results.find((result) => result.code === 1);
    expect(refused?.stderr).toMatch(
      /^vkd datasets: RunDirectoryError: Run directory .*set: is in use by `vkd datasets generate` \(pid \d+ on .*, started .*\)\. Wait for it to finish, or use another --out/,
    );
    // The winner's set, whole; the lock is gone once it finished.
    const manifest = JSON.parse(await readFile(join(out, 'synthetic.json'), 'utf8')) as { options: { seed: number } };
    expect(manifest.options.seed).toBe(results[0]?.code === 0 ? 1 : 2);
    expect(await readdir(out)).not.toContain('vkd-run.lock');
  });

  it("accepts --epochs below a preset's milestones and names --identities-per-batch when the set is too small", async () => {
    const directory = await mkdtemp(join(tmpdir(), 'vkd-cli-'));
    const root = join(directory, 'data');
    expect(
      (await generateSyntheticSet(root, { identities: 6, cameras: 2, framesPerTracklet: 2, height: 16, width: 16 }))
        .code,
    ).toBe(0);
    // demo-quick has milestones [6] and P = 4; 6 identities leave 3 for training.
    const out = join(directory, 'run');
    const { code, stderr } = await vkd([
      'train-teacher',
      '--preset',
      'demo-quick',
      '--root',
      root,
      '--out',
      out,
      '--epochs',
      '1',
      '--device',
      'cpu',
      '--quiet',
    ]);
    expect(stderr).not.toMatch(/Milestone/);
    expect(code).toBe(2);
    expect(stderr).toMatch(
      /Invalid --identities-per-batch: 4. The training split of synthetic has only 3 identities; use --identities-per-batch 3 or less/,
    );
  });
});

describe('resolveCommandInput', () => {
  it('merges defaults < preset < config file < flags and resolves paths against cwd', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'vkd-cli-'));
    await writeFile(
      join(directory, 'run.yaml'),
      'preset: mars-resnet50\nepochs: 30\nidentities-per-batch: 4\nroot: data/mars\n',
    );
    const input = await resolveCommandInput(
      command('train-teacher'),
      ['--config', 'run.yaml', '--epochs', '12', '--out', 'runs/t'],
      directory,
    );
    expect(input.options).toMatchObject({
      dataset: 'mars', // preset
      backbone: 'resnet50', // preset
      framesPerTracklet: 8, // preset
      identitiesPerBatch: 4, // config file over preset
      epochs: 12, // flag over config file
      device: 'auto', // default
      root: join(directory, 'data/mars'),
      out: join(directory, 'runs/t'),
    });
  });

  it("lets a --preset flag override the config file's preset", async () => {
    const directory = await mkdtemp(join(tmpdir(), 'vkd-cli-'));
    await writeFile(join(directory, 'run.json'), '{ "preset": "mars-resnet50" }');
    const input = await resolveCommandInput(
      command('distill'),
      ['--config', 'run.json', '--preset', 'veri-resnet50'],
      directory,
    );
    expect(input.options).toMatchObject({
      dataset: 'veri-776',
      height: 224,
      width: 224,
      studentFrames: 2,
      epochs: 500,
    });
  });
});

describe('vkd on corrupt frames (CLI advice, not loader options)', () => {
  async function listFrames(directory: string): Promise<string[]> {
    const entries = await readdir(directory, { recursive: true, withFileTypes: true });
    return entries
      .filter((entry) => entry.isFile() && entry.name.endsWith('.jpg'))
      .map((entry) => join(entry.parentPath, entry.name))
      .sort();
  }

  it('names --skip-bad-frames when a frame cannot be decoded, and --skip-bad-frames counts bad frames instead', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'vkd-cli-'));
    const root = join(directory, 'data');
    expect(
      (await generateSyntheticSet(root, { identities: 4, cameras: 2, framesPerTracklet: 2, height: 16, width: 16 }))
        .code,
    ).toBe(0);
    const trainFrames = await listFrames(join(root, 'bbox_train'));
    for (const frame of trainFrames) await writeFile(frame, 'not a jpeg');
    const out = join(directory, 'run');
    const train = await vkd([
      'train-teacher',
      '--dataset',
      'synthetic',
      '--root',
      root,
      '--out',
      out,
      ...tinyTraining({ height: 16, width: 16, framesPerTracklet: 1 }),
      '--quiet',
      '--eval-every',
      '0',
      '--no-augment',
    ]);
    expect(train.code).toBe(1);
    expect(train.stderr).toMatch(
      /^vkd train-teacher: CorruptImageError: .*bbox_train.*\.jpg: cannot decode image \(.+\)\. The file is corrupt or truncated: replace it, or rerun with --skip-bad-frames to leave out the frames that cannot be decoded/,
    );
    expect(train.stderr).not.toMatch(/validateFrames|onBadFrame/);
    // A set with one bad frame loads with --skip-bad-frames, which counts it.
    const other = join(directory, 'other');
    expect(
      (await generateSyntheticSet(other, { identities: 4, cameras: 2, framesPerTracklet: 2, height: 16, width: 16 }))
        .code,
    ).toBe(0);
    await writeFile((await listFrames(join(other, 'bbox_train')))[0] as string, 'not a jpeg');
    const stats = await vkd(['datasets', 'stats', '--dataset', 'synthetic', '--root', other, '--skip-bad-frames']);
    expect(stats.code).toBe(0);
    expect(stats.stdout).toContain('skipped bad frames: 1');
  });
});
