import { basename } from 'node:path';
import { InvalidOptionError, UnknownKeyError } from '@vkd/core';
import { coerceOptionValue } from './coerce-option-value';
import { keyFromFlag, type OptionSpec, type OptionValue, type OptionValues } from './option-spec';

/** Where option values come from, lowest precedence first: defaults < preset < config file < flags. */
export interface OptionSources {
  /** Values of a preset (already typed). */
  readonly preset?: OptionValues;
  /** Raw mapping read from a config file, and the file's path (named in errors). */
  readonly file?: { readonly path: string; readonly values: Record<string, unknown> };
  /** Values parsed from flags. */
  readonly flags: OptionValues;
}

/**
 * Merges and validates option values: defaults < preset < config file < flags.
 * @returns every option of `specs` that has a value (given or default).
 * @throws UnknownKeyError for a config key no option has; InvalidOptionError naming the key and the file.
 */
export function resolveOptions(specs: readonly OptionSpec[], sources: OptionSources): OptionValues {
  const byKey = new Map(specs.map((spec) => [spec.key, spec]));
  const values: OptionValues = {};
  for (const spec of specs) if (spec.default !== undefined) values[spec.key] = spec.default;
  for (const [key, value] of Object.entries(sources.preset ?? {})) if (byKey.has(key) && value !== undefined) values[key] = value;
  if (sources.file) {
    const fileName = basename(sources.file.path);
    const allowed = specs.filter((spec) => !spec.flagOnly).map((spec) => spec.key);
    for (const [rawKey, raw] of Object.entries(sources.file.values)) {
      const key = rawKey.includes('-') ? keyFromFlag(rawKey) : rawKey;
      const spec = byKey.get(key);
      if (!spec || spec.flagOnly) throw new UnknownKeyError(`key in ${fileName}`, rawKey, allowed);
      if (raw === null || raw === undefined) continue;
      values[key] = coerceOptionValue(spec, raw, `${rawKey} in ${fileName}`);
    }
  }
  for (const [key, value] of Object.entries(sources.flags)) if (value !== undefined) values[key] = value;
  return values;
}

/**
 * Reads a resolved value, failing with a message naming the flag when a required one is missing.
 * @throws InvalidOptionError when the option has no value.
 */
export function requireOption<T extends OptionValue>(values: OptionValues, key: string, flag: string, hint: string): T {
  const value = values[key];
  if (value === undefined) throw new InvalidOptionError(flag, undefined, `${flag} is required: ${hint}`);
  return value as T;
}
