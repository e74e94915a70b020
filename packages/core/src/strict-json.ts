/** A key that appears twice in one JSON object. */
export interface DuplicateJsonKey {
  readonly key: string;
  /** Where the object is: the keys leading to it, `[]` for an array element (empty at the top level). */
  readonly path: string;
  /** 1-based lines of the repetition and of the first occurrence. */
  readonly line: number;
  readonly firstLine: number;
}

/** The error {@link parseStrictJson} throws for a repeated key: a `SyntaxError`, like `JSON.parse`'s own. */
export class DuplicateJsonKeyError extends SyntaxError {
  readonly duplicate: DuplicateJsonKey;

  constructor(duplicate: DuplicateJsonKey) {
    const where = duplicate.path === '' ? '' : ` in ${duplicate.path}`;
    const lines =
      duplicate.line === duplicate.firstLine
        ? `line ${duplicate.line}`
        : `line ${duplicate.line} (first at line ${duplicate.firstLine})`;
    super(
      `duplicate key "${duplicate.key}"${where} at ${lines}: each key may appear once (JSON.parse would silently keep the last); remove or merge the repeated key`,
    );
    this.name = 'DuplicateJsonKeyError';
    this.duplicate = duplicate;
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * The first key repeated within one object of `text`, which must be valid JSON (parse it first). A single pass over
 * the text: objects keep the keys seen so far; strings are skipped whole, so braces and commas inside them count for
 * nothing. Keys are compared after unescaping (`"a"` and `"\u0061"` are the same key, as for `JSON.parse`).
 */
export function findDuplicateJsonKey(text: string): DuplicateJsonKey | undefined {
  // One entry per open container: the keys of an object (→ first line), or undefined for an array.
  const open: Array<Map<string, number> | undefined> = [];
  const names: string[] = [];
  let line = 1;
  let expectKey = false;
  let lastKey = '';
  for (let at = 0; at < text.length; at++) {
    const code = text.charCodeAt(at);
    if (code === 0x0a) line += 1;
    else if (code === 0x7b || code === 0x5b) {
      if (open.length > 0) names.push(open.at(-1) === undefined ? '[]' : lastKey);
      open.push(code === 0x7b ? new Map() : undefined);
      expectKey = code === 0x7b;
    } else if (code === 0x7d || code === 0x5d) {
      open.pop();
      names.pop();
      expectKey = false;
    } else if (code === 0x2c) expectKey = open.at(-1) !== undefined;
    else if (code === 0x3a) expectKey = false;
    else if (code === QUOTE) {
      let end = at + 1;
      let escaped = false;
      while (text.charCodeAt(end) !== QUOTE) {
        if (text.charCodeAt(end) === BACKSLASH) {
          escaped = true;
          end += 1;
        }
        end += 1;
      }
      if (expectKey) {
        const key = escaped ? (JSON.parse(text.slice(at, end + 1)) as string) : text.slice(at + 1, end);
        const keys = open.at(-1) as Map<string, number>;
        const firstLine = keys.get(key);
        if (firstLine !== undefined) return { key, path: names.join('.'), line, firstLine };
        keys.set(key, line);
        lastKey = key;
      }
      at = end;
    }
  }
  return undefined;
}

/**
 * `JSON.parse` that refuses a key repeated within one object (which `JSON.parse` resolves silently, the last value
 * winning), as YAML files are read here. For files this package reads: configs, run and checkpoint state, headers.
 * @throws SyntaxError from `JSON.parse`; DuplicateJsonKeyError (a SyntaxError) naming the key, its object and lines.
 */
export function parseStrictJson(text: string): unknown {
  const value = JSON.parse(text) as unknown;
  if (typeof value === 'object' && value !== null) {
    const duplicate = findDuplicateJsonKey(text);
    if (duplicate) throw new DuplicateJsonKeyError(duplicate);
  }
  return value;
}
