import { describeValue } from '@vkd/core';
import { datasetNames } from '@vkd/datasets';
import { backboneNames, getBackbone } from '@vkd/models';
import { flagName, type OptionSpec } from '../options/option-spec';
import type { CommandDefinition } from './command';

function optionLine(spec: OptionSpec): [string, string] {
  const alias = spec.alias ? `-${spec.alias}, ` : '';
  const placeholder =
    spec.kind === 'boolean'
      ? ''
      : ` <${spec.placeholder ?? (spec.kind === 'choice' ? (spec.choices ?? []).join('|') : spec.kind === 'integer-list' ? 'n,n,…' : spec.kind)}>`;
  // A boolean that is on by default is turned off with --no-<name>: both forms are listed.
  const negation = spec.kind === 'boolean' && spec.default === true ? `, --no-${flagName(spec.key).slice(2)}` : '';
  const left = `${alias}${flagName(spec.key)}${negation}${placeholder}`;
  const defaultText =
    spec.default === undefined
      ? ''
      : ` (default: ${Array.isArray(spec.default) ? spec.default.join(',') : describeValue(spec.default)})`;
  return [left, `${spec.description}${defaultText}`];
}

/** Aligns `[left, right]` pairs in two columns. */
function columns(rows: ReadonlyArray<readonly [string, string]>, indent = '  '): string {
  const width = Math.min(44, Math.max(...rows.map(([left]) => left.length)));
  return rows
    .map(([left, right]) =>
      left.length > width
        ? `${indent}${left}\n${indent}${' '.repeat(width + 2)}${right}`
        : `${indent}${left.padEnd(width)}  ${right}`,
    )
    .join('\n');
}

/** `vkd <command> --help`. */
export function formatCommandHelp(command: CommandDefinition): string {
  const parts = [`Usage: vkd ${command.name} ${command.usage}`.trimEnd(), '', command.summary];
  if (command.details) parts.push('', command.details);
  parts.push('', 'Options:', columns([...command.options.map(optionLine), ['-h, --help', 'show this help']]));
  if (command.stage) {
    parts.push(
      '',
      'Precedence: defaults < --preset < --config file < flags. Config keys are the option names in camelCase (learningRate) or kebab-case (learning-rate).',
    );
  }
  if (command.examples?.length) parts.push('', 'Examples:', ...command.examples.map((example) => `  ${example}`));
  return `${parts.join('\n')}\n`;
}

/** `vkd --help`. */

/** `resnet50 (also resnet50bam = +BAM)`: a backbone with the authors' combined names that select it. */
function withAliases(name: string): string {
  const aliases = Object.entries(getBackbone(name).aliases ?? {}).map(
    ([alias, attention]) => `${alias} = +${attention.toUpperCase()}`,
  );
  return aliases.length > 0 ? `${name} (also ${aliases.join(', ')})` : name;
}
export function formatGeneralHelp(commands: readonly CommandDefinition[], version: string): string {
  return [
    `vkd ${version}: Views Knowledge Distillation (Porrello et al., ECCV 2020) for video/multi-view re-identification on TensorFlow.js`,
    '',
    'Usage: vkd <command> [options]',
    '',
    'Commands:',
    columns(commands.map((command) => [command.name, command.summary])),
    '',
    `Datasets (--dataset): ${datasetNames().join(', ')}`,
    `Backbones (--backbone): ${backboneNames().map(withAliases).join(', ')}`,
    '',
    'Run `vkd <command> --help` for the options of a command. Start with `vkd demo`.',
    '',
  ].join('\n');
}
