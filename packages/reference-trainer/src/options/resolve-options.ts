import { basename } from 'node:path';
import { InvalidOptionError, UnknownKeyError } from '@vkd/core';
import { MissingOptionError } from './missing-option-error';
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
 * @throws UnknownKeyError for a config key no option has; InvalidOptionError naming the key and the file (also for
 *   one option set under both spellings, `learning-rate` and `learningRate`).
 */
export function resolveOptions(specs: readonly OptionSpec[], sources: OptionSources): OptionValues {
  const byKey = new Map(specs.map((spec) => [spec.key, spec]));
  const values: OptionValues = {};
  // Precedence level of the source each value came from: 0 default, 1 preset, 2 config file, 3 flag.
  const level = new Map<string, number>();
  for (const spec of specs) if (spec.default !== undefined) values[spec.key] = spec.default;
  for (const [key, value] of Object.entries(sources.preset ?? {})) {
    if (byKey.has(key) && value !== undefined) {
      values[key] = value;
      level.set(key, 1);
    }
  }
  if (sources.file) {
    const fileName = basename(sources.file.path);
    const allowed = specs.filter((spec) => !spec.flagOnly).map((spec) => spec.key);
    const spelled = new Map<string, string>(); // option key → the file's spelling of it
    for (const [rawKey, raw] of Object.entries(sources.file.values)) {
      const key = rawKey.includes('-') ? keyFromFlag(rawKey) : rawKey;
      const spec = byKey.get(key);
      if (!spec || spec.flagOnly) throw new UnknownKeyError(`key in ${fileName}`, rawKey, allowed);
      const earlier = spelled.get(key);
      if (earlier !== undefined)
        throw new InvalidOptionError(
          `${rawKey} in ${fileName}`,
          raw,
          `${fileName} also sets this option as "${earlier}" (kebab-case and camelCase name the same option): keep one of the two.`,
        );
      spelled.set(key, rawKey);
      if (raw === null || raw === undefined) continue;
      values[key] = coerceOptionValue(spec, raw, `${rawKey} in ${fileName}`);
      level.set(key, 2);
    }
  }
  for (const [key, value] of Object.entries(sources.flags)) {
    if (value !== undefined) {
      values[key] = value;
      level.set(key, 3);
    }
  }
  dropUnreachableMilestones(values, level);
  return values;
}

/**
 * When `epochs` comes from a higher-precedence source than `milestones` (e.g. `--epochs 10` over a preset's or config
 * file's `milestones: [100, 200]`), the milestones at or after the new last epoch are dropped, as they are for the
 * built-in defaults; milestones given at the same or a higher level than `epochs` are kept and checked as given.
 */
function dropUnreachableMilestones(values: OptionValues, level: ReadonlyMap<string, number>): void {
  const { epochs, milestones } = values;
  if (typeof epochs !== 'number' || !Array.isArray(milestones)) return;
  if ((level.get('epochs') ?? 0) <= (level.get('milestones') ?? 0)) return;
  values.milestones = (milestones as readonly number[]).filter((milestone) => milestone < epochs);
}

/**
 * Reads a resolved value, failing with a message naming the flag when a required one is missing.
 * @param hint what to pass instead, completing "`flag` is required: …", e.g. `pass the run directory, e.g. --out runs/x.`
 * @throws MissingOptionError (an InvalidOptionError) when the option has no value.
 */
export function requireOption<T extends OptionValue>(values: OptionValues, key: string, flag: string, hint: string): T {
  const value = values[key];
  if (value === undefined) throw new MissingOptionError(flag, `${flag} is required: ${hint}`);
  return value as T;
}
