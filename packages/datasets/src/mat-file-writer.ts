import { deflateSync } from 'node:zlib';
import { InvalidOptionError } from '@vkd/core';
import { MI } from './mat-file';

/** Storage types the writer can use for the values of a `double` matrix (MATLAB itself picks the smallest that fits). */
export type MatStorage = 'double' | 'int32' | 'uint16' | 'uint8';

/** One variable to write: a 2-D matrix given as rows. */
export interface MatVariable {
  readonly name: string;
  /** Row-major rows, all the same length. */
  readonly rows: readonly (readonly number[])[];
  /** How the values are stored on disk (class stays `double`, as in MARS `info/*.mat`). Default `'double'`. */
  readonly storage?: MatStorage;
}

const STORAGE: Record<
  MatStorage,
  { type: number; size: number; set: (view: DataView, offset: number, value: number) => void }
> = {
  double: { type: MI.DOUBLE, size: 8, set: (view, offset, value) => view.setFloat64(offset, value, true) },
  int32: { type: MI.INT32, size: 4, set: (view, offset, value) => view.setInt32(offset, value, true) },
  uint16: { type: MI.UINT16, size: 2, set: (view, offset, value) => view.setUint16(offset, value, true) },
  uint8: { type: MI.UINT8, size: 1, set: (view, offset, value) => view.setUint8(offset, value) },
};

/**
 * Writes a little-endian MATLAB v5 MAT-file of real `double` matrices, each optionally wrapped in a zlib
 * `miCOMPRESSED` element, as MATLAB's `save -v7` does (used by the synthetic generator and test fixtures).
 * @throws InvalidOptionError for ragged rows or values that do not fit the storage type.
 */
export function writeMatFile(variables: readonly MatVariable[], options: { compress?: boolean } = {}): Uint8Array {
  const header = Buffer.alloc(128, 0x20);
  header.write('MATLAB 5.0 MAT-file, Platform: GLNXA64, Created by: @vkd/datasets', 0, 'latin1');
  header.fill(0, 116, 124);
  header.writeUInt16LE(0x0100, 124);
  header.write('IM', 126, 'latin1');
  const parts: Uint8Array[] = [header];
  for (const variable of variables) {
    const matrix = matrixElement(variable);
    if (options.compress ?? true) {
      const compressed = deflateSync(matrix);
      parts.push(tag(MI.COMPRESSED, compressed.length), compressed);
    } else parts.push(matrix);
  }
  return Buffer.concat(parts);
}

function matrixElement({ name, rows, storage = 'double' }: MatVariable): Buffer {
  const rowCount = rows.length;
  const columnCount = rows[0]?.length ?? 0;
  rows.forEach((row, index) => {
    if (row.length !== columnCount)
      throw new InvalidOptionError(
        `writeMatFile ${name} row ${index}`,
        row.length,
        `Every row needs ${columnCount} values.`,
      );
  });
  const { type, size, set } = STORAGE[storage];
  const values = Buffer.alloc(rowCount * columnCount * size);
  const view = new DataView(values.buffer, values.byteOffset, values.byteLength);
  for (let col = 0; col < columnCount; col++) {
    for (let row = 0; row < rowCount; row++) {
      const value = (rows[row] as readonly number[])[col] as number;
      if (storage !== 'double' && (!Number.isInteger(value) || (storage !== 'int32' && value < 0))) {
        throw new InvalidOptionError(
          `writeMatFile ${name}[${row}][${col}]`,
          value,
          `Storage "${storage}" holds only integers${storage === 'int32' ? '' : ' ≥ 0'}.`,
        );
      }
      set(view, (col * rowCount + row) * size, value);
    }
  }
  const flags = Buffer.alloc(8);
  flags.writeUInt32LE(6, 0); // mxDOUBLE_CLASS, no flags
  const dims = Buffer.alloc(8);
  dims.writeInt32LE(rowCount, 0);
  dims.writeInt32LE(columnCount, 4);
  const body = Buffer.concat([
    padded(MI.UINT32, flags),
    padded(MI.INT32, dims),
    padded(MI.INT8, Buffer.from(name, 'latin1')),
    padded(type, values),
  ]);
  return Buffer.concat([tag(MI.MATRIX, body.length), body]);
}

function tag(type: number, size: number): Buffer {
  const out = Buffer.alloc(8);
  out.writeUInt32LE(type, 0);
  out.writeUInt32LE(size, 4);
  return out;
}

function padded(type: number, data: Buffer): Buffer {
  const padding = (8 - (data.length % 8)) % 8;
  return Buffer.concat([tag(type, data.length), data, Buffer.alloc(padding)]);
}
