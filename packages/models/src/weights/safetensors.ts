import * as tf from '@tensorflow/tfjs-core';
import { FileFormatError, InvalidOptionError, parseStrictJson } from '@vkd/core';

/** Element types of the safetensors format (https://github.com/huggingface/safetensors). */
export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

const ITEM_SIZE: Record<SafetensorsDtype, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};
/** The format's own limit on the JSON header (100 MB), which also guards against garbage length fields. */
const MAX_HEADER_BYTES = 100_000_000;

/** One tensor of a safetensors file: its dtype, shape and raw little-endian bytes. */
export interface SafetensorsEntry {
  dtype: SafetensorsDtype;
  shape: number[];
  /** Raw little-endian element bytes (a view into the parsed buffer for `parseSafetensors`). */
  data: Uint8Array;
}

/** A parsed safetensors file. */
export interface SafetensorsFile {
  entries: Record<string, SafetensorsEntry>;
  /** The optional `__metadata__` string map. */
  metadata: Record<string, string>;
}

const littleEndianHost = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Bytes per element of a dtype. */
export function dtypeItemSize(dtype: SafetensorsDtype): number {
  return ITEM_SIZE[dtype];
}

function elementCount(shape: readonly number[]): number {
  return shape.reduce((product, dim) => product * dim, 1);
}

/**
 * Parses a safetensors file: 8-byte little-endian header length N, N bytes of JSON header
 * (`{ name: { dtype, shape, data_offsets: [begin, end] }, __metadata__? }`), then the tensor bytes.
 * Pure TypeScript (no tfjs): entries are views into `bytes`.
 * @param source file name used in error messages.
 * @throws FileFormatError naming `source` and what is wrong (truncated, bad JSON, unknown dtype, bad offsets).
 */
export function parseSafetensors(bytes: Uint8Array, source = '<safetensors bytes>'): SafetensorsFile {
  if (!(bytes instanceof Uint8Array))
    throw new InvalidOptionError(
      'parseSafetensors.bytes',
      bytes,
      'Expected a Uint8Array (e.g. the result of fs.readFile).',
    );
  if (bytes.length < 8)
    throw new FileFormatError(
      source,
      `only ${bytes.length} bytes: not a safetensors file (needs an 8-byte header length).`,
    );
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > MAX_HEADER_BYTES || 8 + headerLength > bytes.length) {
    throw new FileFormatError(
      source,
      `header length ${headerLength} does not fit in ${bytes.length} bytes: not a safetensors file, or truncated.`,
    );
  }
  let header: unknown;
  try {
    header = parseStrictJson(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength)));
  } catch (error) {
    throw new FileFormatError(source, `header is not valid UTF-8 JSON (${(error as Error).message}).`, {
      cause: error,
    });
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header))
    throw new FileFormatError(source, 'header is not a JSON object.');
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  const entries: Record<string, SafetensorsEntry> = {};
  let metadata: Record<string, string> = {};
  const ranges: Array<[number, number, string]> = [];
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (raw === null || typeof raw !== 'object' || Object.values(raw).some((value) => typeof value !== 'string')) {
        throw new FileFormatError(source, '__metadata__ must be an object of strings.');
      }
      metadata = { ...(raw as Record<string, string>) };
      continue;
    }
    const info = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof info?.dtype !== 'string' || !(info.dtype in ITEM_SIZE)) {
      throw new FileFormatError(
        source,
        `tensor "${name}" has dtype ${JSON.stringify(info?.dtype)}; supported: ${Object.keys(ITEM_SIZE).join(', ')}.`,
      );
    }
    const shape = info.shape;
    if (!Array.isArray(shape) || shape.some((dim) => !Number.isInteger(dim) || dim < 0)) {
      throw new FileFormatError(source, `tensor "${name}" has an invalid shape ${JSON.stringify(shape)}.`);
    }
    const offsets = info.data_offsets;
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((offset) => Number.isInteger(offset) && offset >= 0)
    ) {
      throw new FileFormatError(source, `tensor "${name}" has invalid data_offsets ${JSON.stringify(offsets)}.`);
    }
    const [begin, end] = offsets as [number, number];
    const dtype = info.dtype as SafetensorsDtype;
    const expectedBytes = elementCount(shape as number[]) * ITEM_SIZE[dtype];
    if (end < begin || end > dataLength)
      throw new FileFormatError(
        source,
        `tensor "${name}" data_offsets [${begin}, ${end}] fall outside the ${dataLength} data bytes (truncated file?).`,
      );
    if (end - begin !== expectedBytes) {
      throw new FileFormatError(
        source,
        `tensor "${name}" (${dtype} ${JSON.stringify(shape)}) needs ${expectedBytes} bytes but data_offsets span ${end - begin}.`,
      );
    }
    ranges.push([begin, end, name]);
    entries[name] = {
      dtype,
      shape: [...(shape as number[])],
      data: bytes.subarray(dataStart + begin, dataStart + end),
    };
  }
  ranges.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < ranges.length; i++) {
    const previous = ranges[i - 1] as [number, number, string];
    const current = ranges[i] as [number, number, string];
    if (current[0] < previous[1])
      throw new FileFormatError(source, `tensors "${previous[2]}" and "${current[2]}" overlap.`);
  }
  return { entries, metadata };
}

function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

function aligned(data: Uint8Array): ArrayBuffer {
  if (!littleEndianHost)
    throw new InvalidOptionError(
      'host byte order',
      'big-endian',
      'safetensors data is little-endian; this reader supports little-endian hosts only.',
    );
  return data.slice().buffer;
}

/**
 * Decodes an entry to float32 values (F32 as is; F64, F16, BF16 and integer types converted).
 * @throws InvalidOptionError for BOOL entries.
 */
export function entryToFloat32(entry: SafetensorsEntry): Float32Array {
  const count = elementCount(entry.shape);
  switch (entry.dtype) {
    case 'F32':
      return new Float32Array(aligned(entry.data));
    case 'F64':
      return Float32Array.from(new Float64Array(aligned(entry.data)));
    case 'F16':
      return Float32Array.from(new Uint16Array(aligned(entry.data)), halfToFloat);
    case 'BF16': {
      const words = new Uint16Array(aligned(entry.data));
      const bits = new Uint32Array(count);
      for (let i = 0; i < count; i++) bits[i] = (words[i] as number) << 16;
      return new Float32Array(bits.buffer);
    }
    case 'BOOL':
      throw new InvalidOptionError('safetensors entry dtype', entry.dtype, 'A BOOL tensor cannot be read as float32.');
    default:
      return Float32Array.from(entryToInt32(entry));
  }
}

/** Decodes an integer or BOOL entry to int32 values. @throws InvalidOptionError for float types or I64 out of range. */
export function entryToInt32(entry: SafetensorsEntry): Int32Array {
  const buffer = aligned(entry.data);
  switch (entry.dtype) {
    case 'I32':
      return new Int32Array(buffer);
    case 'I16':
      return Int32Array.from(new Int16Array(buffer));
    case 'I8':
      return Int32Array.from(new Int8Array(buffer));
    case 'U8':
    case 'BOOL':
      return Int32Array.from(new Uint8Array(buffer));
    case 'I64': {
      const wide = new BigInt64Array(buffer);
      return Int32Array.from(wide, (value) => {
        if (value > 2147483647n || value < -2147483648n)
          throw new InvalidOptionError('safetensors I64 value', value.toString(), 'Outside the int32 range of tfjs.');
        return Number(value);
      });
    }
    default:
      throw new InvalidOptionError('safetensors entry dtype', entry.dtype, 'Not an integer type; use entryToFloat32.');
  }
}

/** Values for {@link encodeSafetensors}: a typed array whose element type matches `dtype`. */
export interface SafetensorsArray {
  dtype: SafetensorsDtype;
  shape: number[];
  data: ArrayBufferView;
}

/**
 * Encodes tensors as a safetensors file (keys sorted, header padded with spaces to 8-byte alignment).
 * @throws InvalidOptionError when a data length does not match its dtype and shape.
 */
export function encodeSafetensors(
  arrays: Record<string, SafetensorsArray>,
  metadata: Record<string, string> = {},
): Uint8Array {
  if (!littleEndianHost)
    throw new InvalidOptionError(
      'host byte order',
      'big-endian',
      'safetensors data is little-endian; this writer supports little-endian hosts only.',
    );
  const names = Object.keys(arrays).sort();
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const name of names) {
    const { dtype, shape, data } = arrays[name] as SafetensorsArray;
    if (!(dtype in ITEM_SIZE))
      throw new InvalidOptionError(
        `encodeSafetensors["${name}"].dtype`,
        dtype,
        `Expected one of ${Object.keys(ITEM_SIZE).join(', ')}.`,
      );
    const size = elementCount(shape) * ITEM_SIZE[dtype];
    if (data.byteLength !== size) {
      throw new InvalidOptionError(
        `encodeSafetensors["${name}"].data`,
        `${data.byteLength} bytes`,
        `${dtype} ${JSON.stringify(shape)} needs ${size} bytes.`,
      );
    }
    header[name] = { dtype, shape, data_offsets: [offset, offset + size] };
    offset += size;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (new TextEncoder().encode(json).length % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const output = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(output.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  output.set(headerBytes, 8);
  let position = 8 + headerBytes.length;
  for (const name of names) {
    const { data } = arrays[name] as SafetensorsArray;
    output.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), position);
    position += data.byteLength;
  }
  return output;
}

/**
 * Reads a safetensors file into tensors: float types → float32, integer types → int32, BOOL → bool.
 * @returns `{ tensors, metadata }`; the caller disposes the tensors.
 * @throws FileFormatError for a malformed file.
 */
export function readSafetensors(
  bytes: Uint8Array,
  source?: string,
): { tensors: Record<string, tf.Tensor>; metadata: Record<string, string> } {
  const { entries, metadata } = parseSafetensors(bytes, source);
  const tensors: Record<string, tf.Tensor> = {};
  for (const [name, entry] of Object.entries(entries)) {
    if (entry.dtype === 'BOOL') tensors[name] = tf.tensor(new Uint8Array(entry.data), entry.shape, 'bool');
    else if (entry.dtype.startsWith('F') || entry.dtype === 'BF16')
      tensors[name] = tf.tensor(entryToFloat32(entry), entry.shape, 'float32');
    else tensors[name] = tf.tensor(entryToInt32(entry), entry.shape, 'int32');
  }
  return { tensors, metadata };
}

/**
 * Encodes tensors (float32 → F32, int32 → I32, bool → BOOL) as a safetensors file; values are read with `await data()`.
 * @throws InvalidOptionError for complex64 or string tensors.
 */
export async function writeSafetensors(
  tensors: Record<string, tf.Tensor>,
  metadata: Record<string, string> = {},
): Promise<Uint8Array> {
  const arrays: Record<string, SafetensorsArray> = {};
  for (const [name, tensor] of Object.entries(tensors)) {
    const dtype: SafetensorsDtype | undefined =
      tensor.dtype === 'float32'
        ? 'F32'
        : tensor.dtype === 'int32'
          ? 'I32'
          : tensor.dtype === 'bool'
            ? 'BOOL'
            : undefined;
    if (!dtype)
      throw new InvalidOptionError(
        `writeSafetensors["${name}"].dtype`,
        tensor.dtype,
        'Expected float32, int32 or bool.',
      );
    arrays[name] = { dtype, shape: [...tensor.shape], data: (await tensor.data()) as ArrayBufferView };
  }
  return encodeSafetensors(arrays, metadata);
}
