/** A seeded pseudo-random generator whose whole state is one 32-bit integer (so it can be checkpointed). */
export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, bound). */
  integer(bound: number): number;
  /** Standard normal (Box–Muller). */
  normal(): number;
  /** Fisher–Yates shuffle in place; returns the array. */
  shuffle<T>(items: T[]): T[];
  /** The current state; `createRandom(state)` continues the same sequence. */
  state(): number;
}

/**
 * Largest seed the generator tells apart: its state is 32 bits, so `seed` and `seed + 2^32` give the same sequence.
 * Seeds given by users are checked against `[0, MAX_SEED]` so that two different seeds never alias.
 */
export const MAX_SEED = 2 ** 32 - 1;

/**
 * Mulberry32: fast, 2^32 period, good enough for sampling and augmentation (not for cryptography).
 * @param seed any integer; the same seed gives the same sequence on every platform.
 */
export function createRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
  const integer = (bound: number) => Math.floor(next() * bound);
  return {
    next,
    integer,
    normal() {
      const u = 1 - next();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
    },
    shuffle<T>(items: T[]) {
      for (let i = items.length - 1; i > 0; i--) {
        const j = integer(i + 1);
        [items[i], items[j]] = [items[j] as T, items[i] as T];
      }
      return items;
    },
    state: () => state,
  };
}
