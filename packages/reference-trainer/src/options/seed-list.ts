import { InvalidOptionError } from '@vkd/core';

/** The most seeds one `vkd demo --seeds` runs: each is a whole demo (about 2 minutes of CPU), 100 about 3 hours. */
export const MAX_DEMO_SEEDS = 100;

/**
 * The seeds of `--seeds`: one value N means the seeds 0..N−1; several values are the seeds themselves.
 * @param value the parsed `integer-list` option.
 * @param where how the error names the option (`--seeds`, or the key in a config file).
 * @throws InvalidOptionError for fewer than 2 seeds, more than {@link MAX_DEMO_SEEDS}, or a repeated seed.
 */
export function seedList(value: readonly number[], where = '--seeds'): number[] {
  const usage =
    'Give a seed count of at least 2 (e.g. --seeds 5 for the seeds 0..4) or a comma-separated list of at least 2 distinct seeds (e.g. --seeds 0,1,2,3,4).';
  const tooMany = `At most ${MAX_DEMO_SEEDS} seeds: each runs the whole demo (about 2 minutes of CPU), so ${MAX_DEMO_SEEDS} take about 3 hours; run several vkd demo --seeds LIST into separate --out folders for more.`;
  if (value.length === 1) {
    const count = value[0] as number;
    if (count < 2) throw new InvalidOptionError(where, count, `A spread over seeds needs at least 2 of them. ${usage}`);
    if (count > MAX_DEMO_SEEDS) throw new InvalidOptionError(where, count, tooMany);
    return Array.from({ length: count }, (_, index) => index);
  }
  if (value.length === 0) throw new InvalidOptionError(where, value, usage);
  if (value.length > MAX_DEMO_SEEDS) throw new InvalidOptionError(where, `${value.length} seeds`, tooMany);
  const repeated = value.find((seed, index) => value.indexOf(seed) !== index);
  if (repeated !== undefined) throw new InvalidOptionError(where, value, `Seed ${repeated} appears twice. ${usage}`);
  return [...value];
}
