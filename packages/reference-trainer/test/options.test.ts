import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileFormatError, InvalidOptionError, UnknownKeyError } from '@vkd/core';
import { describe, expect, it } from 'vitest';
import { loadConfigFile } from '../src/options/load-config-file';
import { MissingOptionError } from '../src/options/missing-option-error';
import type { OptionSpec } from '../src/options/option-spec';
import { flagName, keyFromFlag } from '../src/options/option-spec';
import { parseArguments } from '../src/options/parse-arguments';
import { resolveOptions } from '../src/options/resolve-options';

const SPECS: OptionSpec[] = [
  { key: 'learningRate', kind: 'number', min: 0, default: 1e-4, description: 'lr' },
  { key: 'epochs', kind: 'integer', min: 1, description: 'epochs' },
  { key: 'device', kind: 'choice', choices: ['auto', 'wasm', 'cpu'], default: 'auto', description: 'device' },
  { key: 'augment', kind: 'boolean', default: true, description: 'augment' },
  { key: 'milestones', kind: 'integer-list', min: 1, description: 'milestones' },
  { key: 'out', alias: 'o', kind: 'path', description: 'out' },
  { key: 'config', kind: 'path', flagOnly: true, description: 'config' },
];

const tempDir = () => mkdtemp(join(tmpdir(), 'vkd-options-'));

describe('flag names', () => {
  it('maps camelCase keys to kebab-case flags and back', () => {
    expect(flagName('learningRate')).toBe('--learning-rate');
    expect(flagName('identitiesPerBatch')).toBe('--identities-per-batch');
    expect(keyFromFlag('--identities-per-batch')).toBe('identitiesPerBatch');
    expect(keyFromFlag('learning-rate')).toBe('learningRate');
  });
});

describe('parseArguments', () => {
  it('parses every flag form into typed values', () => {
    const parsed = parseArguments(
      ['--learning-rate', '3e-4', '--epochs=12', '--no-augment', '-o', 'runs/x', '--milestones', '5,10', 'extra'],
      SPECS,
    );
    expect(parsed.values).toEqual({
      learningRate: 3e-4,
      epochs: 12,
      augment: false,
      out: 'runs/x',
      milestones: [5, 10],
    });
    expect(parsed.positionals).toEqual(['extra']);
    expect(parsed.help).toBe(false);
  });

  it('accepts a bare boolean flag and an explicit true/false', () => {
    expect(parseArguments(['--augment'], SPECS).values.augment).toBe(true);
    expect(parseArguments(['--augment', 'false'], SPECS).values.augment).toBe(false);
    expect(parseArguments(['--augment=true'], SPECS).values.augment).toBe(true);
  });

  it('recognises --help and -h anywhere', () => {
    expect(parseArguments(['--epochs', '3', '-h'], SPECS).help).toBe(true);
  });

  it('rejects an unknown flag, listing the valid ones', () => {
    const error = (() => {
      try {
        parseArguments(['--learning-rat', '1'], SPECS);
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(UnknownKeyError);
    expect((error as Error).message).toContain('"--learning-rat"');
    expect((error as Error).message).toContain('"--learning-rate"');
  });

  it('names the flag when a value is missing or malformed', () => {
    expect(() => parseArguments(['--epochs'], SPECS)).toThrow(
      /^--epochs was given without a value: pass the epochs after it, as `--epochs <integer>` or `--epochs=<integer>`\.$/,
    );
    expect(() => parseArguments(['--epochs'], SPECS)).toThrow(MissingOptionError);
    expect(() => parseArguments(['--epochs', '--augment'], SPECS)).toThrow(InvalidOptionError);
    expect(() => parseArguments(['--epochs', '2.5'], SPECS)).toThrow(/Invalid --epochs: "2.5". Expected an integer/);
    expect(() => parseArguments(['--epochs', '0'], SPECS)).toThrow(/Invalid --epochs: 0. Must be ≥ 1/);
    expect(() => parseArguments(['--learning-rate', 'fast'], SPECS)).toThrow(
      /Invalid --learning-rate: "fast". Expected a number/,
    );
    expect(() => parseArguments(['--device', 'tpu'], SPECS)).toThrow(
      /Invalid --device: "tpu". Expected one of: auto, wasm, cpu/,
    );
    expect(() => parseArguments(['--milestones', '10,x'], SPECS)).toThrow(/Invalid --milestones.*item x is not valid/);
    expect(() => parseArguments(['--augment=maybe'], SPECS)).toThrow(
      /Invalid --augment: "maybe". Expected true or false/,
    );
  });

  it('treats a negative number as a value, not a flag', () => {
    const specs: OptionSpec[] = [{ key: 'offset', kind: 'number', description: 'x' }];
    expect(parseArguments(['--offset', '-3'], specs).values.offset).toBe(-3);
  });
});

describe('loadConfigFile', () => {
  it('reads YAML and JSON mappings', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'run.yaml'), 'epochs: 30\nlearning-rate: 3.0e-4\nmilestones: [10, 20]\n');
    await writeFile(join(dir, 'run.json'), '{"epochs": 7, "device": "cpu"}');
    expect(await loadConfigFile(join(dir, 'run.yaml'))).toEqual({
      epochs: 30,
      'learning-rate': 3e-4,
      milestones: [10, 20],
    });
    expect(await loadConfigFile(join(dir, 'run.json'))).toEqual({ epochs: 7, device: 'cpu' });
  });

  it('reports the file and line of a syntax error', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'bad.yaml'), 'epochs: 30\nmilestones: [10, 20\nlr: 1\n');
    await writeFile(join(dir, 'bad.json'), '{\n  "epochs": 7,\n  "device": cpu\n}');
    const yamlError = await loadConfigFile(join(dir, 'bad.yaml')).catch((error: unknown) => error);
    expect(yamlError).toBeInstanceOf(FileFormatError);
    expect((yamlError as FileFormatError).file).toBe(join(dir, 'bad.yaml'));
    expect((yamlError as FileFormatError).line).toBeGreaterThanOrEqual(2);
    // yaml's first message line ends in "at line L, column C:" (its excerpt follows): never print it cut there.
    expect((yamlError as Error).message).toMatch(
      /^.*bad\.yaml:\d+: Invalid YAML at line \d+, column \d+: Flow sequence in block collection .*\. Close the bracket \(e\.g\. `milestones: \[100, 200\]`\) or fix the indentation\.$/,
    );
    await writeFile(join(dir, 'twice.yaml'), 'epochs: 30\nepochs: 40\n');
    await expect(loadConfigFile(join(dir, 'twice.yaml'))).rejects.toThrow(
      /twice\.yaml:2: Invalid YAML at line 2, column 1: Map keys must be unique \(the line reads `epochs: 40`\)\. Each option may appear once: remove or merge the repeated key\.$/,
    );
    // JSON duplicates are refused like YAML's (JSON.parse would keep the last value silently).
    await writeFile(join(dir, 'twice.json'), '{\n  "epochs": 30,\n  "epochs": 40\n}');
    await expect(loadConfigFile(join(dir, 'twice.json'))).rejects.toThrow(
      /twice\.json:3: Invalid JSON: duplicate key "epochs" at line 3 \(first at line 2\): each key may appear once .*remove or merge the repeated key\.$/,
    );
    const jsonError = await loadConfigFile(join(dir, 'bad.json')).catch((error: unknown) => error);
    expect(jsonError).toBeInstanceOf(FileFormatError);
    expect((jsonError as FileFormatError).line).toBe(3);
    expect((jsonError as Error).message).toMatch(
      /bad\.json:3: Invalid JSON at line 3: Unexpected token .* is not valid JSON \(the line reads `"device": cpu`\)\. Fix the syntax \(keys in double quotes, no trailing commas or comments\), or write the file as YAML/,
    );
  });

  it('rejects a top level that is not a mapping, and a missing file naming --config', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'list.yaml'), '- 1\n- 2\n');
    await expect(loadConfigFile(join(dir, 'list.yaml'))).rejects.toThrow(/top level must be a mapping/);
    await expect(loadConfigFile(join(dir, 'missing.yaml'))).rejects.toThrow(
      /Invalid --config: ".*missing.yaml". Cannot read the file/,
    );
  });
});

describe('resolveOptions', () => {
  it('applies defaults < preset < config file < flags', () => {
    const values = resolveOptions(SPECS, {
      preset: { epochs: 300, learningRate: 1e-3 },
      file: { path: '/x/run.yaml', values: { epochs: 30, milestones: [10] } },
      flags: { epochs: 12 },
    });
    expect(values).toEqual({ learningRate: 1e-3, epochs: 12, device: 'auto', augment: true, milestones: [10] });
  });

  it('drops milestones from a lower source that a higher-precedence --epochs makes unreachable', () => {
    // `--preset demo-quick --epochs 1` used to fail with "Milestone 6 is not before the last epoch".
    const preset = { epochs: 8, milestones: [6] };
    expect(resolveOptions(SPECS, { preset, flags: { epochs: 1 } }).milestones).toEqual([]);
    expect(
      resolveOptions(SPECS, { preset: { epochs: 300, milestones: [100, 200] }, flags: { epochs: 150 } }).milestones,
    ).toEqual([100]);
    // README: teacher.yaml with epochs 120, milestones [60, 100], run with `--epochs 10`.
    const file = { path: '/x/teacher.yaml', values: { epochs: 120, milestones: [60, 100] } };
    expect(resolveOptions(SPECS, { file, flags: { epochs: 10 } }).milestones).toEqual([]);
    // Milestones given at the same level as epochs, or above it, are kept as given (and checked later).
    expect(resolveOptions(SPECS, { flags: { epochs: 3, milestones: [10] } }).milestones).toEqual([10]);
    expect(resolveOptions(SPECS, { file, flags: { milestones: [200] } }).milestones).toEqual([200]);
  });

  it('names the key and the file for a bad config value', () => {
    expect(() =>
      resolveOptions(SPECS, { file: { path: '/x/run.yaml', values: { epochs: 'many' } }, flags: {} }),
    ).toThrow(/Invalid epochs in run.yaml: "many". Expected an integer/);
    expect(() =>
      resolveOptions(SPECS, { file: { path: '/x/run.yaml', values: { 'learning-rate': -1 } }, flags: {} }),
    ).toThrow(/Invalid learning-rate in run.yaml: -1. Must be ≥ 0/);
  });

  // Before: `{"learning-rate": 1e-3, "learningRate": 2e-4}` took whichever came last, silently.
  it('rejects one option set twice in a config file under its two spellings', () => {
    const file = { path: '/x/run.json', values: { 'learning-rate': 1e-3, learningRate: 2e-4 } };
    expect(() => resolveOptions(SPECS, { file, flags: {} })).toThrow(InvalidOptionError);
    expect(() => resolveOptions(SPECS, { file, flags: {} })).toThrow(
      'Invalid learningRate in run.json: 0.0002. run.json also sets this option as "learning-rate" (kebab-case and camelCase name the same option): keep one of the two.',
    );
  });

  it('rejects unknown and flag-only keys in a config file, listing the valid keys', () => {
    expect(() => resolveOptions(SPECS, { file: { path: '/x/run.yaml', values: { lr: 1 } }, flags: {} })).toThrow(
      /Unknown key in run.yaml "lr". Expected one of: .*"learningRate"/,
    );
    expect(() =>
      resolveOptions(SPECS, { file: { path: '/x/run.yaml', values: { config: 'other.yaml' } }, flags: {} }),
    ).toThrow(UnknownKeyError);
  });
});
