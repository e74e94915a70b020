import { InvalidOptionError } from '@vkd/core';

/**
 * The seeds of `--seeds`: one value N means the seeds 0..N−1; several values are the seeds themselves.
 * @param value the parsed `integer-list` option.
 * @throws InvalidOptionError (`--seeds`) for fewer than 2 seeds or a repeated seed.
 */
export function seedList(value: readonly number[]): number[] {
  const usage =
    'Give a seed count of at least 2 (e.g. --seeds 5 for the seeds 0..4) or a comma-separated list of at least 2 distinct seeds (e.g. --seeds 0,1,2,3,4).';
  if (value.length === 1) {
    const count = value[0] as number;
    if (count < 2)
      throw new InvalidOptionError('--seeds', count, `A spread over seeds needs at least 2 of them. ${usage}`);
    return Array.from({ length: count }, (_, index) => index);
  }
  if (value.length === 0) throw new InvalidOptionError('--seeds', value, usage);
  const repeated = value.find((seed, index) => value.indexOf(seed) !== index);
  if (repeated !== undefined)
    throw new InvalidOptionError('--seeds', value, `Seed ${repeated} appears twice. ${usage}`);
  return [...value];
}
