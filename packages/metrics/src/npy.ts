import { FileFormatError } from '@vkd/core';

/** Typed arrays an `.npy` file can hold here. */
export type NpyData =
  | Float32Array
  | Float64Array
  | Int32Array
  | Int16Array
  | Int8Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigInt64Array;

/** A decoded `.npy` array (C order). */
export interface NpyArray {
  /** NumPy dtype string, e.g. `<f4`. */
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly data: NpyData;
}

const TYPES: Record<string, { bytes: number; make: (buffer: ArrayBuffer, offset: number, length: number) => NpyData }> =
  {
    f4: { bytes: 4, make: (b, o, n) => new Float32Array(b, o, n) },
    f8: { bytes: 8, make: (b, o, n) => new Float64Array(b, o, n) },
    i1: { bytes: 1, make: (b, o, n) => new Int8Array(b, o, n) },
    u1: { bytes: 1, make: (b, o, n) => new Uint8Array(b, o, n) },
    i2: { bytes: 2, make: (b, o, n) => new Int16Array(b, o, n) },
    u2: { bytes: 2, make: (b, o, n) => new Uint16Array(b, o, n) },
    i4: { bytes: 4, make: (b, o, n) => new Int32Array(b, o, n) },
    u4: { bytes: 4, make: (b, o, n) => new Uint32Array(b, o, n) },
    i8: { bytes: 8, make: (b, o, n) => new BigInt64Array(b, o, n) },
  };

/**
 * Decodes a NumPy `.npy` file (format versions 1–3, little-endian or byte-order-free dtypes, C order).
 * Reference: numpy/lib/format.py.
 * @param file the path, used in error messages.
 * @throws FileFormatError naming the file and what is wrong (magic, header, dtype, Fortran order, size).
 */
export function readNpy(bytes: Uint8Array, file = '<bytes>'): NpyArray {
  const fail = (reason: string) => new FileFormatError(file, reason);
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
  if (bytes.length < 10 || magic.some((value, i) => bytes[i] !== value))
    throw fail('not a .npy file (missing the \\x93NUMPY magic).');
  const major = bytes[6] as number;
  if (major < 1 || major > 3) throw fail(`unsupported .npy format version ${major}.${bytes[7]}.`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = major === 1 ? 10 : 12;
  if (headerStart + headerLength > bytes.length) throw fail('truncated header.');
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(
    bytes.subarray(headerStart, headerStart + headerLength),
  );
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined)
    throw fail(`malformed header ${JSON.stringify(header.trim())}.`);
  if (fortran === 'True') throw fail('Fortran-ordered arrays are not supported; save with np.ascontiguousarray(x).');
  const shape = shapeText
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0)
    .map(Number);
  if (shape.some((size) => !Number.isInteger(size) || size < 0)) throw fail(`malformed shape (${shapeText}).`);
  const order = descr[0];
  const type = TYPES[descr.slice(1)];
  const byteOrderFree = type !== undefined && type.bytes === 1;
  if (type === undefined || !(order === '<' || (order === '|' && byteOrderFree))) {
    throw fail(
      `unsupported dtype '${descr}'; use little-endian float32/float64 or an integer type (e.g. x.astype('<f4')).`,
    );
  }
  const count = shape.reduce((product, size) => product * size, 1);
  const dataStart = headerStart + headerLength;
  const expectedBytes = count * type.bytes;
  if (bytes.length - dataStart !== expectedBytes) {
    throw fail(
      `expected ${expectedBytes} data bytes for shape (${shape.join(', ')}) and dtype '${descr}', found ${bytes.length - dataStart}.`,
    );
  }
  // Copy into a fresh, aligned buffer: the data offset need not be a multiple of the element size, and a Node
  // Buffer's .slice() is a view into a shared pool, not a copy.
  const copy = new Uint8Array(expectedBytes);
  copy.set(bytes.subarray(dataStart, dataStart + expectedBytes));
  return { dtype: descr, shape, data: type.make(copy.buffer, 0, count) };
}

/**
 * Encodes a typed array as a version 1.0 `.npy` file readable by `numpy.load`.
 * @param shape defaults to one dimension of `data.length`.
 */
export function writeNpy(
  data: Float32Array | Float64Array | Int32Array | Uint8Array,
  shape: readonly number[] = [data.length],
): Uint8Array {
  const descr =
    data instanceof Float32Array
      ? '<f4'
      : data instanceof Float64Array
        ? '<f8'
        : data instanceof Int32Array
          ? '<i4'
          : '|u1';
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // Pad so that the data starts at a multiple of 64 bytes, ending the header with a newline.
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = `${header.padEnd(total - 10 - 1, ' ')}\n`;
  const out = new Uint8Array(total + data.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), total);
  return out;
}
