import { describe, expect, it } from 'vitest';
import { importNodeBuiltin, NodeOnlyError, VkdError } from '@vkd/core';

describe('importNodeBuiltin', () => {
  it('returns the Node built-in module itself', async () => {
    const path = await importNodeBuiltin<typeof import('node:path')>('node:path', 'test');
    expect(path.join('a', 'b')).toBe(`a${path.sep}b`);
    const fs = await importNodeBuiltin<typeof import('node:fs/promises')>('node:fs/promises', 'test');
    expect(typeof fs.readFile).toBe('function');
  });

  it('throws NodeOnlyError naming the function and the module where Node is missing', async () => {
    const saved = globalThis.process;
    // What a browser looks like to this function: no `process` global.
    Object.defineProperty(globalThis, 'process', { value: undefined, configurable: true, writable: true });
    let caught: unknown;
    try {
      await importNodeBuiltin('node:fs/promises', 'saveReidModel');
    } catch (error) {
      caught = error;
    } finally {
      Object.defineProperty(globalThis, 'process', { value: saved, configurable: true, writable: true });
    }
    expect(caught).toBeInstanceOf(NodeOnlyError);
    expect(VkdError.isInstance(caught)).toBe(true);
    expect((caught as NodeOnlyError).feature).toBe('saveReidModel');
    expect((caught as NodeOnlyError).builtin).toBe('node:fs/promises');
    expect((caught as Error).message).toMatch(/^saveReidModel needs Node\.js \(node:fs\/promises\)/);
  });

  it('wraps a failed import of an unknown built-in in NodeOnlyError', async () => {
    await expect(importNodeBuiltin('node:no-such-module', 'test')).rejects.toThrow(NodeOnlyError);
  });
});
