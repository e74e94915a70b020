import { describe, expect, it } from 'vitest';
import {
  assertShape,
  createRegistry,
  DuplicateKeyError,
  InvalidOptionError,
  ShapeMismatchError,
  UnknownKeyError,
  VkdError,
} from '@vkd/core';

describe('errors', () => {
  it('carry structured fields and are recognised by isInstance', () => {
    const error = new InvalidOptionError('maxRank', -1, 'Use a positive integer.');
    expect(error.message).toBe('Invalid maxRank: -1. Use a positive integer.');
    expect(error.option).toBe('maxRank');
    expect(VkdError.isInstance(error)).toBe(true);
    expect(VkdError.isInstance(new Error('x'))).toBe(false);
    expect(error).toBeInstanceOf(VkdError);
  });
});

describe('createRegistry', () => {
  it('lists valid names for an unknown key and refuses duplicates', () => {
    const registry = createRegistry('dataset', { mars: 1, 'veri-776': 2 });
    expect(registry.get('mars')).toBe(1);
    expect(() => registry.get('market')).toThrow(UnknownKeyError);
    expect(() => registry.get('market')).toThrow('Unknown dataset "market". Expected one of: "mars", "veri-776".');
    registry.register('atrw', 3);
    expect(registry.keys()).toEqual(['mars', 'veri-776', 'atrw']);
    expect(() => registry.register('mars', 4)).toThrow(DuplicateKeyError);
  });
});

describe('assertShape', () => {
  it('binds symbols across calls', () => {
    const bindings = assertShape([4, 10], ['B', 'I'], 'logits');
    expect(bindings).toEqual({ B: 4, I: 10 });
    expect(() => assertShape([5], ['B'], 'labels', bindings)).toThrow('labels has shape [5], expected [B=4].');
    expect(() => assertShape([4, 3, 2], ['B', 3], 'x')).toThrow(ShapeMismatchError);
    expect(() => assertShape([4, 2], ['B', 3], 'x')).toThrow('x has shape [4, 2], expected [B=4, 3].');
  });
});

describe('createRandom', () => {
  it('is deterministic, resumable from its state and roughly uniform', async () => {
    const { createRandom } = await import('@vkd/core');
    const a = createRandom(42);
    const first = [a.next(), a.next(), a.next()];
    expect(createRandom(42).next()).toBe(first[0]);
    const resumed = createRandom(a.state());
    expect(resumed.next()).toBe(a.next());
    const values = Array.from({ length: 20000 }, () => a.next());
    const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
    expect(mean).toBeGreaterThan(0.49);
    expect(mean).toBeLessThan(0.51);
    expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...values)).toBeLessThan(1);
    const shuffled = createRandom(1).shuffle([1, 2, 3, 4, 5, 6]);
    expect([...shuffled].sort()).toEqual([1, 2, 3, 4, 5, 6]);
  });
});
