import { InvalidOptionError } from '@vkd/core';
import type { OptionSpec, OptionValue } from './option-spec';

/**
 * Turns a raw value (a flag's string, or a JSON/YAML value from a config file) into the option's typed value.
 * @param spec the option.
 * @param raw the raw value.
 * @param where how the error names the option, e.g. `--learning-rate` or `learningRate in run.yaml`.
 * @throws InvalidOptionError naming `where`, the value and what is accepted.
 */
export function coerceOptionValue(spec: OptionSpec, raw: unknown, where: string): OptionValue {
  const value = coerceKind(spec, raw, where);
  spec.validate?.(value, where);
  return value;
}

function coerceKind(spec: OptionSpec, raw: unknown, where: string): OptionValue {
  switch (spec.kind) {
    case 'string':
    case 'path':
      if (typeof raw === 'string' && raw.length > 0) return raw;
      throw new InvalidOptionError(where, raw, `Expected a non-empty ${spec.kind === 'path' ? 'path' : 'string'}.`);
    case 'boolean':
      return coerceBoolean(raw, where);
    case 'choice':
      if (typeof raw === 'string' && spec.choices?.includes(raw)) return raw;
      throw new InvalidOptionError(where, raw, `Expected one of: ${(spec.choices ?? []).join(', ')}.`);
    case 'integer':
    case 'number':
      return checkRange(spec, coerceNumber(raw, spec.kind, where), where);
    case 'integer-list':
      return coerceIntegerList(spec, raw, where);
  }
}

function coerceBoolean(raw: unknown, where: string): boolean {
  if (typeof raw === 'boolean') return raw;
  if (raw === 'true' || raw === '1' || raw === 'yes') return true;
  if (raw === 'false' || raw === '0' || raw === 'no') return false;
  throw new InvalidOptionError(where, raw, 'Expected true or false.');
}

function coerceNumber(raw: unknown, kind: 'integer' | 'number', where: string): number {
  const value = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : Number.NaN;
  if (!Number.isFinite(value))
    throw new InvalidOptionError(where, raw, `Expected ${kind === 'integer' ? 'an integer' : 'a number'}.`);
  if (kind === 'integer' && !Number.isInteger(value)) throw new InvalidOptionError(where, raw, 'Expected an integer.');
  return value;
}

function checkRange(spec: OptionSpec, value: number, where: string): number {
  if (spec.min !== undefined && value < spec.min) throw new InvalidOptionError(where, value, `Must be ≥ ${spec.min}.`);
  if (spec.max !== undefined && value > spec.max) throw new InvalidOptionError(where, value, `Must be ≤ ${spec.max}.`);
  return value;
}

function coerceIntegerList(spec: OptionSpec, raw: unknown, where: string): readonly number[] {
  let items: unknown[];
  if (Array.isArray(raw)) items = raw;
  else if (typeof raw === 'number') items = [raw];
  else if (typeof raw === 'string') items = raw.trim() === '' ? [] : raw.split(',').map((item) => item.trim());
  else throw new InvalidOptionError(where, raw, 'Expected a comma-separated list of integers, e.g. 100,200.');
  const values = items.map((item) => {
    try {
      return checkRange(spec, coerceNumber(item, 'integer', where), where);
    } catch (error) {
      throw new InvalidOptionError(
        where,
        raw,
        `Expected a comma-separated list of integers, e.g. 100,200; item ${String(item)} is not valid.`,
        { cause: error },
      );
    }
  });
  return values;
}
