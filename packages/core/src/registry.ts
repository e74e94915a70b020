import { DuplicateKeyError } from './errors/duplicate-key-error';
import { UnknownKeyError } from './errors/unknown-key-error';

/** A name → value table with typed errors for unknown and duplicate names. */
export interface Registry<Value> {
  /** The value registered under `name`. @throws UnknownKeyError listing the valid names. */
  get(name: string): Value;
  has(name: string): boolean;
  /** Adds an entry. @throws DuplicateKeyError when `name` exists. */
  register(name: string, value: Value): void;
  /** Registered names in insertion order. */
  keys(): string[];
}

/**
 * Creates a registry.
 * @param kind what the entries are, used in error messages ("dataset", "backbone").
 * @param initial built-in entries.
 */
export function createRegistry<Value>(kind: string, initial: Record<string, Value> = {}): Registry<Value> {
  const entries = new Map<string, Value>(Object.entries(initial));
  return {
    get(name) {
      const value = entries.get(name);
      if (value === undefined) throw new UnknownKeyError(kind, name, [...entries.keys()]);
      return value;
    },
    has: (name) => entries.has(name),
    register(name, value) {
      if (entries.has(name)) throw new DuplicateKeyError(kind, name);
      entries.set(name, value);
    },
    keys: () => [...entries.keys()],
  };
}
