import { UnknownKeyError } from '@vkd/core';
import { coerceOptionValue } from './coerce-option-value';
import { MissingOptionError } from './missing-option-error';
import { flagName, keyFromFlag, type OptionSpec, type OptionValues } from './option-spec';

/** Flags given on the command line (only those given; defaults are applied later by `resolveOptions`). */
export interface ParsedArguments {
  readonly values: OptionValues;
  readonly positionals: readonly string[];
  readonly help: boolean;
}

/**
 * Parses `--name value`, `--name=value`, `--flag`, `--no-flag`, `-x value`, `--help`/`-h` and positionals.
 * Everything after `--` is positional.
 * @throws UnknownKeyError for an unknown flag (the message lists the valid ones); MissingOptionError for a flag
 *   without its value; InvalidOptionError for a malformed value, naming the flag.
 */
export function parseArguments(argv: readonly string[], specs: readonly OptionSpec[]): ParsedArguments {
  const byKey = new Map(specs.map((spec) => [spec.key, spec]));
  const byAlias = new Map(specs.filter((spec) => spec.alias).map((spec) => [spec.alias as string, spec]));
  const values: OptionValues = {};
  const positionals: string[] = [];
  let help = false;
  for (let index = 0; index < argv.length; index++) {
    const token = argv[index] as string;
    if (token === '--') {
      positionals.push(...argv.slice(index + 1));
      break;
    }
    if (token === '--help' || token === '-h') {
      help = true;
      continue;
    }
    if (!token.startsWith('-') || token === '-' || /^-\d/.test(token)) {
      positionals.push(token);
      continue;
    }
    const equals = token.indexOf('=');
    const name = equals >= 0 ? token.slice(0, equals) : token;
    let inline: string | undefined = equals >= 0 ? token.slice(equals + 1) : undefined;
    const spec = name.startsWith('--') ? byKey.get(keyFromFlag(name)) : byAlias.get(name.slice(1));
    if (!spec && name.startsWith('--no-')) {
      const negated = byKey.get(keyFromFlag(`--${name.slice(5)}`));
      if (negated?.kind === 'boolean' && inline === undefined) {
        values[negated.key] = false;
        continue;
      }
    }
    if (!spec) throw new UnknownKeyError('option', name, [...specs.map((item) => flagName(item.key)), '--help'].sort());
    const flag = flagName(spec.key);
    if (spec.kind === 'boolean' && inline === undefined) {
      const next = argv[index + 1];
      if (next === 'true' || next === 'false') {
        inline = next;
        index++;
      } else {
        values[spec.key] = true;
        continue;
      }
    }
    if (inline === undefined) {
      const next = argv[index + 1];
      if (next === undefined || (next.startsWith('--') && next.length > 2)) {
        const placeholder = `<${spec.placeholder ?? (spec.kind === 'choice' ? (spec.choices ?? []).join('|') : spec.kind)}>`;
        throw new MissingOptionError(
          flag,
          `${flag} was given without a value: pass the ${spec.description} after it, as \`${flag} ${placeholder}\` or \`${flag}=${placeholder}\`.`,
        );
      }
      inline = next;
      index++;
    }
    values[spec.key] = coerceOptionValue(spec, inline, flag);
  }
  return { values, positionals, help };
}

/** Looks up an option by key (for callers that need its spec). */
export function findOption(specs: readonly OptionSpec[], key: string): OptionSpec | undefined {
  return specs.find((spec) => spec.key === key);
}
