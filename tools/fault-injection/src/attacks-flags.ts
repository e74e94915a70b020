import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { COMMANDS } from '../../../packages/reference-trainer/src/cli/commands';
import { flagName } from '../../../packages/reference-trainer/src/options/option-spec';
import { workFolder } from './attacks';
import type { AttackResult } from './harness';
import { refusedInProcess } from './in-process';

/** Paths the flag attacks point at: a generated set and a finished run (the fixture's). */
export interface FlagTargets {
  readonly data: string;
  readonly reference: string;
}

/**
 * Bad flags on every command, bad `--config` files (syntax, duplicates, aliases, depth, types, unknown keys) and seeds
 * beyond the generator's range, run in this process: each must be refused with a clear typed error naming the
 * option or file, before any work.
 */
export async function badFlagsAndConfigs(targets: FlagTargets): Promise<AttackResult[]> {
  const base = await workFolder('flags');
  const out = join(base, 'out');
  // Small settings first (a flag given twice takes the last value): were an attack accepted, it would train briefly.
  const small = ['--device', 'cpu', '--quiet', '--epochs', '1', '--height', '16', '--width', '16'];
  const batch = ['--identities-per-batch', '2', '--instances-per-identity', '1', '--frames-per-tracklet', '1'];
  const teacher = ['train-teacher', '--dataset', 'synthetic', '--root', targets.data, '--out', out, ...small];
  teacher.push('--base-width', '4', ...batch);
  const distill = ['distill', '--dataset', 'synthetic', '--root', targets.data, '--teacher', targets.reference];
  const distillOut = [...distill, '--out', out, ...small, ...batch, '--student-frames', '1'];
  const evaluate = ['evaluate', '--dataset', 'synthetic', '--root', targets.data, '--model', targets.reference];
  const generate = ['datasets', 'generate', '--out', join(base, 'set')];
  const cases: Array<[string, string[], RegExp]> = [];
  const invalid = (flag: string) => new RegExp(`Invalid ${flag.replace(/[-]/g, '\\-')}\\b`);
  // Numeric flags of train-teacher: out of range, not a number, not an integer, not finite, empty.
  const teacherNumbers: Array<[string, string[]]> = [
    ['--epochs', ['0', '-1', '1.5', 'abc', '1e300', '']],
    ['--learning-rate', ['-1', 'NaN', 'abc', 'Infinity']],
    ['--identities-per-batch', ['0', '1', '1e9']],
    ['--instances-per-identity', ['0', '-2']],
    ['--frames-per-tracklet', ['0', '65', '1e6']],
    ['--height', ['0', '99999', '7.5']],
    ['--width', ['-3', '16px']],
    ['--base-width', ['0']],
    ['--weight-decay', ['-1']],
    ['--gamma', ['2', '-0.1']],
    ['--milestones', ['a,b', '0', '10,,20']],
    ['--save-every', ['-1']],
    ['--keep-last', ['0']],
    ['--eval-every', ['-2']],
    ['--test-frames', ['0', '65']],
    ['--test-batch', ['0']],
    ['--threads', ['0', '257']],
    ['--seed', ['-1', '4294967296', '4294967297', '1e300', '0.5']],
  ];
  for (const [flag, values] of teacherNumbers)
    for (const value of values)
      cases.push([`train-teacher ${flag} ${JSON.stringify(value)}`, [...teacher, flag, value], invalid(flag)]);
  const choices: Array<[string, string]> = [
    ['--backbone', 'vgg99'],
    ['--attention', 'xyz'],
    ['--device', 'gpu9'],
    ['--dataset', 'imagenet'],
    ['--preset', 'fastest'],
  ];
  for (const [flag, value] of choices)
    cases.push([`train-teacher ${flag} ${value}`, [...teacher, flag, value], /Invalid|Unknown|unknown/]);
  cases.push(
    ['train-teacher with an unknown flag', [...teacher, '--epoch', '3'], /--epoch/],
    ['train-teacher --epochs without a value', [...teacher, '--epochs'], /--epochs/],
    ['train-teacher without --root', ['train-teacher', '--dataset', 'mars', '--out', out], /--root/],
    [
      'train-teacher --root that does not exist',
      [...teacher.slice(0, 4), join(base, 'none'), ...teacher.slice(5)],
      /none/,
    ],
    ['distill --kd-weight -1', [...distillOut, '--kd-weight', '-1'], invalid('--kd-weight')],
    ['distill --kd-weight NaN', [...distillOut, '--kd-weight', 'NaN'], invalid('--kd-weight')],
    ['distill --dp-weight abc', [...distillOut, '--dp-weight', 'abc'], invalid('--dp-weight')],
    ['distill --temperature 0', [...distillOut, '--temperature', '0'], invalid('--temperature')],
    ['distill --student-frames 0', [...distillOut, '--student-frames', '0'], invalid('--student-frames')],
    ['distill --generations 99', [...distillOut, '--generations', '99'], invalid('--generations')],
    ['distill --seed 4294967297', [...distillOut, '--seed', '4294967297'], /Invalid --seed: 4294967297/],
    [
      'distill --teacher that does not exist',
      [...distill.slice(0, 5), '--teacher', join(base, 'no-teacher'), ...distillOut.slice(7)],
      /no-teacher/,
    ],
    ['evaluate --gallery-frames 0', [...evaluate, '--gallery-frames', '0'], invalid('--gallery-frames')],
    ['evaluate --ranked-top 51', [...evaluate, '--ranked-top', '51'], invalid('--ranked-top')],
    ['evaluate --out a file', [...evaluate, '--out', join(base, 'a-file.txt')], /--out/],
    ['evaluate --model that does not exist', [...evaluate.slice(0, 5), '--model', join(base, 'none')], /none/],
    ['demo --seeds 0', ['demo', '--seeds', '0', '--out', out], /Invalid --seeds: 0/],
    ['demo --seeds 1', ['demo', '--seeds', '1', '--out', out], /Invalid --seeds: 1/],
    ['demo --seeds 101', ['demo', '--seeds', '101', '--out', out], /Invalid --seeds: 101\. At most 100/],
    ['demo --seeds 4294967295', ['demo', '--seeds', '4294967295', '--out', out], /At most 100 seeds/],
    ['demo --seeds 3,3', ['demo', '--seeds', '3,3', '--out', out], /Seed 3 appears twice/],
    ['demo --seeds a', ['demo', '--seeds', 'a', '--out', out], /Invalid --seeds/],
    ['demo --out below a file', ['demo', '--quick', '--out', join(base, 'a-file.txt', 'demo')], /ENOTDIR|--out/],
    ['datasets generate --identities 0', [...generate, '--identities', '0'], invalid('--identities')],
    ['datasets generate --identities 10000', [...generate, '--identities', '10000'], /Must be ≤ 9999/],
    ['datasets generate --cameras 99', [...generate, '--cameras', '99'], invalid('--cameras')],
    ['datasets generate --frames-per-tracklet 0', [...generate, '--frames-per-tracklet', '0'], /frames-per-tracklet/],
    ['datasets generate --height 7', [...generate, '--height', '7'], invalid('--height')],
    ['datasets generate --width 2000', [...generate, '--width', '2000'], invalid('--width')],
    ['datasets generate --seed -1', [...generate, '--seed', '-1'], /Invalid --seed/],
    ['datasets generate --seed 4294967297', [...generate, '--seed', '4294967297'], /Must be ≤ 4294967295/],
    ['datasets generate --seed 1e300', [...generate, '--seed', '1e300'], /Invalid --seed/],
    [
      'datasets generate of 9999 × 9 × 99 × 999 frames',
      [...generate, '--identities', '9999', '--cameras', '9', '--tracklets-per-identity', '99'],
      /at most 2,000,000/,
    ],
    ['datasets with an unknown action', ['datasets', 'delete', '--out', out], /stats or generate|Invalid action/],
    [
      'datasets stats --root that does not exist',
      ['datasets', 'stats', '--dataset', 'mars', '--root', base],
      /mars|bbox/,
    ],
    [
      'import-weights --source that does not exist',
      ['import-weights', '--source', join(base, 'no.pth'), '--out', out],
      /no\.pth/,
    ],
    ['import-weights --format xyz', ['import-weights', '--source', 'x', '--format', 'xyz', '--out', out], /--format/],
    [
      'import-weights --num-identities 0',
      ['import-weights', '--source', 'x', '--num-identities', '0', '--out', out],
      /--num-identities/,
    ],
    ['report --run that does not exist', ['report', '--run', join(base, 'no-run')], /no-run/],
    ['an unknown command', ['trian-teacher'], /Unknown command|trian-teacher/],
  );
  // Every bounded numeric option of every command, just outside its range.
  for (const command of COMMANDS) {
    for (const spec of command.options) {
      if (spec.kind !== 'integer' && spec.kind !== 'number') continue;
      const flag = flagName(spec.key);
      const values = [
        ...(spec.min === undefined
          ? []
          : [String(spec.min - (spec.kind === 'integer' ? 1 : Math.max(1e-3, Math.abs(spec.min))))]),
        ...(spec.max === undefined ? [] : [String(spec.max + 1)]),
      ];
      for (const value of values)
        cases.push([
          `${command.name} ${flag} ${value} (outside its range)`,
          [command.name, flag, value],
          invalid(flag),
        ]);
    }
  }
  // --config files.
  const configs: Array<[string, string, string, RegExp]> = [
    ['YAML syntax error', 'bad.yaml', 'epochs: 30\nmilestones: [10, 20\n', /bad\.yaml:\d+: Invalid YAML/],
    ['YAML duplicate key', 'twice.yaml', 'epochs: 30\nepochs: 40\n', /twice\.yaml:2: .*Map keys must be unique/],
    ['JSON syntax error', 'bad.json', '{\n "epochs": 7,\n "device": cpu\n}', /bad\.json:3: Invalid JSON/],
    [
      'JSON duplicate key',
      'twice.json',
      '{"epochs": 30, "epochs": 40}',
      /twice\.json:1: Invalid JSON: duplicate key "epochs"/,
    ],
    [
      'JSON duplicate key after nesting',
      'nested.json',
      '{"milestones": [1, 2],\n"seed": 1,\n"seed": 2}',
      /duplicate key "seed" at line 3/,
    ],
    ['YAML top level is a list', 'list.yaml', '- 1\n- 2\n', /top level must be a mapping/],
    ['JSON top level is a number', 'number.json', '7', /top level must be a mapping/],
    ['unknown key', 'unknown.yaml', 'epochz: 3\n', /epochz/],
    ['value of the wrong type', 'type.yaml', 'epochs: ten\n', /epochs/],
    ['a flag-only option in a config', 'flag-only.yaml', 'config: other.yaml\n', /config/],
    ['seed beyond 2^32 in a config', 'seed.yaml', 'seed: 4294967297\n', /seed/],
    ['binary garbage', 'garbage.yaml', '\u0000\u0001\u00ff\u00fe{{{', /garbage\.yaml/],
    ['YAML nested 20,000 deep', 'deep.yaml', `a: ${'['.repeat(20_000)}${']'.repeat(20_000)}\n`, /deep\.yaml/],
    ['JSON nested 20,000 deep', 'deep.json', `{"a": ${'['.repeat(20_000)}${']'.repeat(20_000)}}`, /deep\.json/],
    ['YAML tag of a JS type', 'tag.yaml', 'epochs: !!js/function "function () {}"\n', /tag\.yaml/],
  ];
  for (const [attack, name, text, expected] of configs) {
    await writeFile(join(base, name), text);
    cases.push([`--config: ${attack}`, [...teacher, '--config', join(base, name)], expected]);
  }
  const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
  for (const [index, name] of ['b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'].entries())
    bomb.push(
      `${name}: &${name} [${Array(9)
        .fill(`*${index === 0 ? 'a' : 'bcdefgh'[index - 1]}`)
        .join(',')}]`,
    );
  await writeFile(join(base, 'bomb.yaml'), `${bomb.join('\n')}\n`);
  cases.push([
    '--config: YAML alias bomb',
    [...teacher, '--config', join(base, 'bomb.yaml')],
    /aliases .* are not accepted/,
  ]);
  await mkdir(join(base, 'config-dir.yaml'));
  cases.push(['--config is a directory', [...teacher, '--config', join(base, 'config-dir.yaml')], /--config/]);
  cases.push(['--config that does not exist', [...teacher, '--config', join(base, 'none.yaml')], /--config/]);
  await writeFile(join(base, 'a-file.txt'), 'the user’s file');
  const results: AttackResult[] = [];
  for (const [attack, args, expected] of cases) results.push(await refusedInProcess(attack, args, expected));
  return results;
}
