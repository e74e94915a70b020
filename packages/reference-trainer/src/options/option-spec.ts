/** What kind of value an option holds; decides parsing from flags and validation of config-file values. */
export type OptionKind = 'string' | 'path' | 'integer' | 'number' | 'boolean' | 'choice' | 'integer-list';

/**
 * One command-line option / config-file key. The config key is camelCase (`learningRate`), the flag its kebab-case
 * form (`--learning-rate`).
 */
export interface OptionSpec {
  /** camelCase key used in config files and in the parsed values. */
  readonly key: string;
  readonly kind: OptionKind;
  /** One line for `--help`. */
  readonly description: string;
  /** Accepted values of a `choice` option. */
  readonly choices?: readonly string[];
  /** Inclusive bounds of numeric options (and of every item of an `integer-list`). */
  readonly min?: number;
  readonly max?: number;
  /** Value used when neither flag, config file nor preset sets it. */
  readonly default?: OptionValue;
  /** Single-letter alias, e.g. `o` for `--out`. */
  readonly alias?: string;
  /** Options that only make sense on the command line (`--config`, `--help`) are rejected in a config file. */
  readonly flagOnly?: boolean;
  /** Words a `path` option also accepts, taken literally (not resolved against the working directory), e.g. `none`. */
  readonly literals?: readonly string[];
  /** Shown in `--help` as `<placeholder>`. */
  readonly placeholder?: string;
  /**
   * Checks the typed value beyond kind and range (e.g. how many seeds `--seeds` may ask for), as the value is read.
   * @throws InvalidOptionError naming `where`.
   */
  readonly validate?: (value: OptionValue, where: string) => void;
}

/** A parsed option value. */
export type OptionValue = string | number | boolean | readonly number[];

/** Parsed option values by camelCase key. */
export type OptionValues = Record<string, OptionValue | undefined>;

/** `learningRate` → `--learning-rate`. */
export function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`;
}

/** `learning-rate` → `learningRate`. */
export function keyFromFlag(flag: string): string {
  return flag.replace(/^-+/, '').replace(/-([a-z0-9])/g, (_, letter: string) => letter.toUpperCase());
}
