import { CheckpointError } from '@vkd/core';

/**
 * A Python global the caller allows (resolved by {@link UnpicklerOptions.resolveGlobal}). It never runs Python:
 * `call` is the caller's own TypeScript stand-in (e.g. building a tensor record), absent for marker types such as
 * `torch.FloatStorage` that are only passed around.
 */
export interface PickleGlobal {
  readonly module: string;
  readonly name: string;
  call?(args: unknown[]): unknown;
}

/** How {@link readPickle} treats globals and persistent ids. */
export interface UnpicklerOptions {
  /** File name for error messages. */
  source: string;
  /** Returns the allowed global or throws (e.g. `UnsafePickleError`) for anything else. */
  resolveGlobal(module: string, name: string): PickleGlobal;
  /** Turns a persistent id (BINPERSID) into a value; without it persistent ids are refused. */
  persistentLoad?(id: unknown): unknown;
}

const MAX_PROTOCOL = 5;

/** Python opcodes by byte (protocols 0–5, the binary subset; text opcodes are refused as unsupported). */
const OPCODE_NAMES: Record<number, string> = {
  0x28: 'MARK',
  0x2e: 'STOP',
  0x30: 'POP',
  0x31: 'POP_MARK',
  0x32: 'DUP',
  0x42: 'BINBYTES',
  0x43: 'SHORT_BINBYTES',
  0x47: 'BINFLOAT',
  0x4a: 'BININT',
  0x4b: 'BININT1',
  0x4d: 'BININT2',
  0x4e: 'NONE',
  0x50: 'PERSID',
  0x51: 'BINPERSID',
  0x52: 'REDUCE',
  0x54: 'BINSTRING',
  0x55: 'SHORT_BINSTRING',
  0x58: 'BINUNICODE',
  0x5d: 'EMPTY_LIST',
  0x61: 'APPEND',
  0x62: 'BUILD',
  0x63: 'GLOBAL',
  0x64: 'DICT',
  0x65: 'APPENDS',
  0x68: 'BINGET',
  0x69: 'INST',
  0x6a: 'LONG_BINGET',
  0x6c: 'LIST',
  0x6f: 'OBJ',
  0x71: 'BINPUT',
  0x72: 'LONG_BINPUT',
  0x73: 'SETITEM',
  0x74: 'TUPLE',
  0x75: 'SETITEMS',
  0x7d: 'EMPTY_DICT',
  0x29: 'EMPTY_TUPLE',
  0x80: 'PROTO',
  0x81: 'NEWOBJ',
  0x82: 'EXT1',
  0x83: 'EXT2',
  0x84: 'EXT4',
  0x85: 'TUPLE1',
  0x86: 'TUPLE2',
  0x87: 'TUPLE3',
  0x88: 'NEWTRUE',
  0x89: 'NEWFALSE',
  0x8a: 'LONG1',
  0x8b: 'LONG4',
  0x8c: 'SHORT_BINUNICODE',
  0x8d: 'BINUNICODE8',
  0x8e: 'BINBYTES8',
  0x8f: 'EMPTY_SET',
  0x90: 'ADDITEMS',
  0x91: 'FROZENSET',
  0x92: 'NEWOBJ_EX',
  0x93: 'STACK_GLOBAL',
  0x94: 'MEMOIZE',
  0x95: 'FRAME',
};

/** A little-endian two's-complement integer of `bytes` (pickle LONG1/LONG4), as a number when it is exact. */
function decodeLong(bytes: Uint8Array): number | bigint {
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i] as number);
  if (bytes.length > 0 && ((bytes[bytes.length - 1] as number) & 0x80) !== 0) value -= 1n << BigInt(8 * bytes.length);
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}

/**
 * Reads one pickle starting at `offset`, building only None/bool/int/float/str/bytes, tuples and lists (JS arrays),
 * dicts (`Map`), sets, and what the caller's allowed globals build. Nothing is evaluated: every GLOBAL / STACK_GLOBAL
 * / INST goes through `resolveGlobal`, and only a resolved global's own TypeScript `call` is applied on REDUCE/NEWOBJ.
 * @returns the value and the offset just past its STOP opcode.
 * @throws CheckpointError naming `source` for a truncated or malformed pickle or an unsupported opcode; whatever
 *   `resolveGlobal` throws for a refused global.
 */
export function readPickle(
  bytes: Uint8Array,
  offset: number,
  options: UnpicklerOptions,
): { value: unknown; end: number } {
  const { source } = options;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  let position = offset;
  const fail = (reason: string): never => {
    throw new CheckpointError(source, `${reason} (pickle at byte ${offset}, opcode at byte ${position}).`);
  };
  const take = (count: number): Uint8Array => {
    if (position + count > bytes.length)
      fail(`truncated file: the pickle needs ${count} more byte(s) past the end of the ${bytes.length}-byte file`);
    const result = bytes.subarray(position, position + count);
    position += count;
    return result;
  };
  const uint = (size: 1 | 2 | 4 | 8): number => {
    const at = take(size).byteOffset - bytes.byteOffset;
    if (size === 1) return view.getUint8(at);
    if (size === 2) return view.getUint16(at, true);
    if (size === 4) return view.getUint32(at, true);
    const wide = view.getBigUint64(at, true);
    if (wide > BigInt(Number.MAX_SAFE_INTEGER)) fail(`length ${wide} is too large`);
    return Number(wide);
  };
  const line = (): string => {
    const end = bytes.indexOf(0x0a, position);
    if (end < 0) fail('truncated file: a GLOBAL name has no end of line');
    const text = new TextDecoder('latin1').decode(bytes.subarray(position, end));
    position = end + 1;
    return text;
  };
  const utf8 = (data: Uint8Array): string => {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(data);
    } catch {
      return fail('a string is not valid UTF-8');
    }
  };
  const pop = (): unknown =>
    stack.length > (marks.at(-1) ?? 0) ? stack.pop() : fail('stack underflow: the pickle is malformed');
  const top = (): unknown =>
    stack.length > (marks.at(-1) ?? 0) ? stack[stack.length - 1] : fail('stack underflow: the pickle is malformed');
  const popMark = (): unknown[] => {
    const mark = marks.pop();
    if (mark === undefined) return fail('no MARK for a tuple/list/dict: the pickle is malformed');
    return stack.splice(mark);
  };
  const getMemo = (index: number): unknown =>
    memo.has(index) ? memo.get(index) : fail(`memo entry ${index} is missing`);
  const asGlobal = (value: unknown, opcode: string): PickleGlobal => {
    if (value !== null && typeof value === 'object' && 'module' in value && 'name' in value)
      return value as PickleGlobal;
    return fail(`${opcode} applies something that is not a global: the pickle is malformed`);
  };
  const call = (callable: unknown, args: unknown, opcode: string): unknown => {
    const global = asGlobal(callable, opcode);
    if (!global.call)
      return fail(`${opcode} calls ${global.module}.${global.name}, which is only allowed as a type marker`);
    if (!Array.isArray(args)) return fail(`${opcode} arguments are not a tuple`);
    return global.call(args);
  };
  const setItems = (target: unknown, items: unknown[]): void => {
    if (!(target instanceof Map)) fail('SETITEM(S) on something that is not a dict');
    for (let i = 0; i + 1 < items.length; i += 2) (target as Map<unknown, unknown>).set(items[i], items[i + 1]);
  };
  const appendItems = (target: unknown, items: unknown[]): void => {
    if (Array.isArray(target)) target.push(...items);
    else if (target instanceof Set) for (const item of items) target.add(item);
    else fail('APPEND(S) on something that is not a list');
  };
  for (;;) {
    if (position >= bytes.length) fail('truncated file: the pickle ends before its STOP opcode');
    const code = bytes[position] as number;
    position += 1;
    switch (code) {
      case 0x80: {
        const protocol = uint(1);
        if (protocol > MAX_PROTOCOL) fail(`unknown pickle protocol ${protocol}`);
        break;
      }
      case 0x95:
        uint(8);
        break; // FRAME: a length hint only
      case 0x2e:
        if (stack.length !== 1 || marks.length > 0) fail('the pickle stops with a malformed stack');
        return { value: stack[0], end: position };
      case 0x28:
        marks.push(stack.length);
        break;
      case 0x30:
        pop();
        break;
      case 0x31:
        popMark();
        break;
      case 0x32:
        stack.push(top());
        break;
      case 0x4e:
        stack.push(null);
        break;
      case 0x88:
        stack.push(true);
        break;
      case 0x89:
        stack.push(false);
        break;
      case 0x4a:
        stack.push(view.getInt32(take(4).byteOffset - bytes.byteOffset, true));
        break;
      case 0x4b:
        stack.push(uint(1));
        break;
      case 0x4d:
        stack.push(uint(2));
        break;
      case 0x8a:
        stack.push(decodeLong(take(uint(1))));
        break;
      case 0x8b:
        stack.push(decodeLong(take(uint(4))));
        break;
      case 0x47:
        stack.push(view.getFloat64(take(8).byteOffset - bytes.byteOffset, false));
        break;
      case 0x58:
        stack.push(utf8(take(uint(4))));
        break;
      case 0x8c:
        stack.push(utf8(take(uint(1))));
        break;
      case 0x8d:
        stack.push(utf8(take(uint(8))));
        break;
      case 0x54:
        stack.push(new TextDecoder('latin1').decode(take(uint(4))));
        break;
      case 0x55:
        stack.push(new TextDecoder('latin1').decode(take(uint(1))));
        break;
      case 0x42:
        stack.push(take(uint(4)).slice());
        break;
      case 0x43:
        stack.push(take(uint(1)).slice());
        break;
      case 0x8e:
        stack.push(take(uint(8)).slice());
        break;
      case 0x29:
        stack.push([]);
        break;
      case 0x74:
        stack.push(popMark());
        break;
      case 0x85:
        stack.push([pop()]);
        break;
      case 0x86: {
        const second = pop();
        stack.push([pop(), second]);
        break;
      }
      case 0x87: {
        const third = pop();
        const second = pop();
        stack.push([pop(), second, third]);
        break;
      }
      case 0x5d:
        stack.push([]);
        break;
      case 0x6c:
        stack.push(popMark());
        break;
      case 0x61: {
        const item = pop();
        appendItems(top(), [item]);
        break;
      }
      case 0x65: {
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case 0x7d:
        stack.push(new Map());
        break;
      case 0x64: {
        const map = new Map();
        setItems(map, popMark());
        stack.push(map);
        break;
      }
      case 0x73: {
        const value = pop();
        const key = pop();
        setItems(top(), [key, value]);
        break;
      }
      case 0x75: {
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x8f:
        stack.push(new Set());
        break;
      case 0x90: {
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case 0x91:
        stack.push(new Set(popMark()));
        break;
      case 0x71:
        memo.set(uint(1), top());
        break;
      case 0x72:
        memo.set(uint(4), top());
        break;
      case 0x94:
        memo.set(memo.size, top());
        break;
      case 0x68:
        stack.push(getMemo(uint(1)));
        break;
      case 0x6a:
        stack.push(getMemo(uint(4)));
        break;
      case 0x63: {
        const module = line();
        stack.push(options.resolveGlobal(module, line()));
        break;
      }
      case 0x93: {
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL names are not strings');
        stack.push(options.resolveGlobal(module as string, name as string));
        break;
      }
      case 0x69: {
        const global = options.resolveGlobal(line(), line());
        stack.push(call(global, popMark(), 'INST'));
        break;
      }
      case 0x6f: {
        const [global, ...args] = popMark();
        stack.push(call(global, args, 'OBJ'));
        break;
      }
      case 0x52: {
        const args = pop();
        stack.push(call(pop(), args, 'REDUCE'));
        break;
      }
      case 0x81: {
        const args = pop();
        stack.push(call(pop(), args, 'NEWOBJ'));
        break;
      }
      case 0x92: {
        pop();
        const args = pop();
        stack.push(call(pop(), args, 'NEWOBJ_EX'));
        break;
      }
      case 0x62: {
        pop(); // BUILD state: only dicts (OrderedDict's `_metadata` attribute) receive it, and it is not needed.
        if (!(top() instanceof Map)) fail('BUILD sets the state of an object that is not a dict');
        break;
      }
      case 0x51: {
        const id = pop();
        if (!options.persistentLoad) fail('a persistent id (BINPERSID) where none is expected');
        stack.push(options.persistentLoad?.(id));
        break;
      }
      default: {
        const name = OPCODE_NAMES[code];
        fail(
          name
            ? `unsupported pickle opcode ${name}`
            : `byte 0x${code.toString(16).padStart(2, '0')} is not a pickle opcode`,
        );
      }
    }
  }
}
