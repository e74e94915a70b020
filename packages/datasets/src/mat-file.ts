import { inflateSync } from 'node:zlib';
import { DatasetFormatError } from '@vkd/core';

/** A numeric MATLAB array: values as float64 in column-major order (MATLAB's own order). */
export interface MatArray {
  readonly name: string;
  /** MATLAB dimensions, e.g. `[12180, 4]`. */
  readonly dims: readonly number[];
  /** MATLAB class, e.g. `'double'`, `'uint16'`, `'logical'`. */
  readonly className: string;
  /** Column-major values (element (r, c) of a 2-D array is `data[c * dims[0] + r]`). */
  readonly data: Float64Array;
}

/** MAT v5 data types (`mi*`) and array classes (`mx*`). Reference: MathWorks "MAT-File Format", R2024a. */
export const MI = {
  INT8: 1,
  UINT8: 2,
  INT16: 3,
  UINT16: 4,
  INT32: 5,
  UINT32: 6,
  SINGLE: 7,
  DOUBLE: 9,
  INT64: 12,
  UINT64: 13,
  MATRIX: 14,
  COMPRESSED: 15,
  UTF8: 16,
} as const;
export const MX_NUMERIC_CLASSES: Readonly<Record<number, string>> = {
  6: 'double',
  7: 'single',
  8: 'int8',
  9: 'uint8',
  10: 'int16',
  11: 'uint16',
  12: 'int32',
  13: 'uint32',
  14: 'int64',
  15: 'uint64',
};
const MX_OTHER_CLASSES: Readonly<Record<number, string>> = {
  1: 'cell',
  2: 'struct',
  3: 'object',
  4: 'char',
  5: 'sparse',
};
const ELEMENT_SIZES: Readonly<Record<number, number>> = {
  1: 1,
  2: 1,
  3: 2,
  4: 2,
  5: 4,
  6: 4,
  7: 4,
  9: 8,
  12: 8,
  13: 8,
  16: 1,
};

interface Element {
  readonly type: number;
  readonly bytes: DataView;
  readonly next: number;
}

/**
 * Reads the numeric matrices of a MATLAB v5 MAT-file (what MARS `info/*.mat` are): little- or big-endian,
 * `miCOMPRESSED` (zlib) or plain elements, any integer/float storage type for any numeric class.
 * Cell, struct, char, sparse and complex arrays are rejected with a clear error (MAT v7.3/HDF5 too).
 * @param bytes the whole file.  @param file path used in error messages.
 * @returns arrays by variable name.
 * @throws DatasetFormatError naming the file and the byte offset of the problem.
 */
export function readMatFile(bytes: Uint8Array, file: string): Map<string, MatArray> {
  const fail = (reason: string, offset?: number): never => {
    throw new DatasetFormatError(
      file,
      `${reason}${offset === undefined ? '' : ` (at byte ${offset})`}. Expected a MATLAB v5 MAT-file as written by save(..., '-v7') or '-v6'.`,
    );
  };
  if (bytes.length < 128) fail(`file is ${bytes.length} bytes, shorter than the 128-byte MAT header`);
  const header = Buffer.from(bytes.buffer, bytes.byteOffset, 116).toString('latin1');
  if (header.startsWith('MATLAB 7.3')) fail('MAT v7.3 (HDF5) files are not supported; re-save with -v7');
  if (!header.startsWith('MATLAB 5.0 MAT-file')) fail('missing the "MATLAB 5.0 MAT-file" header text', 0);
  const endian = String.fromCharCode(bytes[126] as number, bytes[127] as number);
  if (endian !== 'IM' && endian !== 'MI') fail(`bad endian indicator "${endian}"`, 126);
  const littleEndian = endian === 'IM';
  const arrays = new Map<string, MatArray>();
  const readElements = (view: DataView, start: number, baseOffset: number) => {
    let offset = start;
    while (offset + 8 <= view.byteLength) {
      const element = readElement(view, offset, littleEndian, (reason, at) => fail(reason, baseOffset + at));
      if (element.type === MI.COMPRESSED) {
        let inflated: Buffer;
        try {
          inflated = inflateSync(
            new Uint8Array(element.bytes.buffer, element.bytes.byteOffset, element.bytes.byteLength),
          );
        } catch (error) {
          return fail(`corrupt zlib stream in a compressed element: ${(error as Error).message}`, baseOffset + offset);
        }
        readElements(new DataView(inflated.buffer, inflated.byteOffset, inflated.byteLength), 0, baseOffset + offset);
      } else if (element.type === MI.MATRIX) {
        const array = readMatrix(element.bytes, littleEndian, (reason, at) =>
          fail(reason, baseOffset + offset + 8 + at),
        );
        if (array) arrays.set(array.name, array);
      }
      offset = element.next;
    }
    if (offset !== view.byteLength && offset < view.byteLength)
      fail('trailing bytes after the last element', baseOffset + offset);
  };
  readElements(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), 128, 0);
  return arrays;
}

type Fail = (reason: string, offset: number) => never;

function readElement(view: DataView, offset: number, littleEndian: boolean, fail: Fail): Element {
  // Every element starts with an 8-byte tag (a small one too: 4 bytes of tag, 4 of data).
  if (offset + 8 > view.byteLength)
    fail(
      `element needs an 8-byte tag but only ${Math.max(0, view.byteLength - offset)} bytes remain (truncated file?)`,
      offset,
    );
  const first = view.getUint32(offset, littleEndian);
  // Small data element: size in the upper 16 bits, type in the lower 16, data in the next 4 bytes.
  if (first >>> 16 !== 0) {
    const size = first >>> 16;
    if (size > 4) fail(`small data element claims ${size} bytes (max 4)`, offset);
    return {
      type: first & 0xffff,
      bytes: new DataView(view.buffer, view.byteOffset + offset + 4, size),
      next: offset + 8,
    };
  }
  const size = view.getUint32(offset + 4, littleEndian);
  const end = offset + 8 + size;
  if (end > view.byteLength)
    fail(
      `element of type ${first} needs ${size} bytes but only ${view.byteLength - offset - 8} remain (truncated file?)`,
      offset,
    );
  // Every element except miCOMPRESSED is padded to a multiple of 8 bytes.
  const next = first === MI.COMPRESSED ? end : Math.min(view.byteLength, offset + 8 + Math.ceil(size / 8) * 8);
  return { type: first, bytes: new DataView(view.buffer, view.byteOffset + offset + 8, size), next };
}

function readMatrix(view: DataView, littleEndian: boolean, fail: Fail): MatArray | undefined {
  const flags = readElement(view, 0, littleEndian, fail);
  if (flags.type !== MI.UINT32 || flags.bytes.byteLength < 8) fail('array flags subelement missing', 0);
  const flagWord = flags.bytes.getUint32(0, littleEndian);
  const classId = flagWord & 0xff;
  const isComplex = (flagWord & 0x800) !== 0;
  const isLogical = (flagWord & 0x200) !== 0;
  const dimsElement = readElement(view, flags.next, littleEndian, fail);
  if (dimsElement.type !== MI.INT32) fail('dimensions subelement is not miINT32', flags.next);
  const dims = Array.from(readNumbers(dimsElement, littleEndian, fail, flags.next));
  const nameElement = readElement(view, dimsElement.next, littleEndian, fail);
  const name = Buffer.from(
    nameElement.bytes.buffer,
    nameElement.bytes.byteOffset,
    nameElement.bytes.byteLength,
  ).toString('latin1');
  const className = MX_NUMERIC_CLASSES[classId];
  if (className === undefined) {
    const other = MX_OTHER_CLASSES[classId] ?? `class ${classId}`;
    fail(`variable "${name}" is a ${other} array; only numeric matrices are supported`, 0);
  }
  if (isComplex) fail(`variable "${name}" is complex; only real matrices are supported`, 0);
  const realElement = readElement(view, nameElement.next, littleEndian, fail);
  const data = readNumbers(realElement, littleEndian, fail, nameElement.next);
  const expected = dims.reduce((product, dim) => product * dim, 1);
  if (data.length !== expected)
    fail(
      `variable "${name}" has ${data.length} values but dimensions [${dims.join(', ')}] need ${expected}`,
      nameElement.next,
    );
  return { name, dims, className: isLogical ? 'logical' : (className as string), data };
}

function readNumbers(element: Element, littleEndian: boolean, fail: Fail, at: number): Float64Array {
  const size = ELEMENT_SIZES[element.type];
  if (size === undefined) return fail(`unsupported numeric storage type ${element.type}`, at);
  const view = element.bytes;
  if (view.byteLength % size !== 0)
    fail(`numeric element of ${view.byteLength} bytes is not a multiple of ${size}`, at);
  const count = view.byteLength / size;
  const out = new Float64Array(count);
  const get: (index: number) => number = {
    1: (i: number) => view.getInt8(i),
    2: (i: number) => view.getUint8(i),
    3: (i: number) => view.getInt16(i * 2, littleEndian),
    4: (i: number) => view.getUint16(i * 2, littleEndian),
    5: (i: number) => view.getInt32(i * 4, littleEndian),
    6: (i: number) => view.getUint32(i * 4, littleEndian),
    7: (i: number) => view.getFloat32(i * 4, littleEndian),
    9: (i: number) => view.getFloat64(i * 8, littleEndian),
    12: (i: number) => Number(view.getBigInt64(i * 8, littleEndian)),
    13: (i: number) => Number(view.getBigUint64(i * 8, littleEndian)),
    16: (i: number) => view.getUint8(i),
  }[element.type as 1] as (index: number) => number;
  for (let i = 0; i < count; i++) out[i] = get(i);
  return out;
}

/**
 * A 2-D matrix as rows (row-major), e.g. MARS `track_test_info` → `[[start, end, pid, cam], …]`.
 * @throws DatasetFormatError when the variable is missing or not 2-D with `columns` columns.
 */
export function matrixRows(arrays: Map<string, MatArray>, name: string, file: string, columns?: number): number[][] {
  const array = arrays.get(name);
  if (!array)
    throw new DatasetFormatError(
      file,
      `variable "${name}" not found (found: ${[...arrays.keys()].join(', ') || 'none'})`,
    );
  const [rows = 0, cols = 0] = array.dims;
  if (array.dims.length !== 2 || (columns !== undefined && cols !== columns)) {
    throw new DatasetFormatError(
      file,
      `variable "${name}" has dimensions [${array.dims.join(', ')}], expected [N, ${columns ?? 'M'}]`,
    );
  }
  return Array.from({ length: rows }, (_, row) =>
    Array.from({ length: cols }, (_, col) => array.data[col * rows + row] as number),
  );
}
