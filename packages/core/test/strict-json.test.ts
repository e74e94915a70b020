import { describe, expect, it } from 'vitest';
import { DuplicateJsonKeyError, findDuplicateJsonKey, parseStrictJson } from '../src/index';

describe('parseStrictJson', () => {
  it('parses like JSON.parse when every key is unique', () => {
    const text = '{"a": {"b": [1, {"b": 2}, {"b": 3}]}, "c": "{\\"a\\": 1, \\"a\\": 2}", "d": [[{"x": 1}], {"x": 2}]}';
    expect(parseStrictJson(text)).toEqual(JSON.parse(text));
    expect(parseStrictJson('7')).toBe(7);
    expect(parseStrictJson('"{\\"a\\":1,\\"a\\":1}"')).toBe('{"a":1,"a":1}');
    expect(() => parseStrictJson('{"a": 1,}')).toThrow(SyntaxError);
  });

  it('refuses a key repeated in one object, naming the key, its object and both lines (JSON.parse keeps the last)', () => {
    expect(JSON.parse('{"seed": 1, "seed": 2}')).toEqual({ seed: 2 });
    expect(findDuplicateJsonKey('{\n  "seed": 1,\n  "epochs": 3,\n  "seed": 2\n}')).toEqual({
      key: 'seed',
      path: '',
      line: 4,
      firstLine: 2,
    });
    // Nested, after arrays and strings holding braces, commas and quotes; escapes compared after decoding.
    const nested = '{"a": [{"k": "},{\\"x\\":"}], "b": {"c": {"x": 1, "y": "[", "\\u0078": 3}}}';
    expect(findDuplicateJsonKey(nested)).toEqual({ key: 'x', path: 'b.c', line: 1, firstLine: 1 });
    expect(findDuplicateJsonKey('[{"x": 1}, {"x": 2}, [{"y": 1, "y": 2}]]')?.path).toBe('[].[]');
    const error = (() => {
      try {
        parseStrictJson('{"w": {"dtype": "F32", "dtype": "F16"}}');
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(DuplicateJsonKeyError);
    expect(error).toBeInstanceOf(SyntaxError);
    expect((error as Error).message).toBe(
      'duplicate key "dtype" in w at line 1: each key may appear once (JSON.parse would silently keep the last); remove or merge the repeated key',
    );
  });
});
