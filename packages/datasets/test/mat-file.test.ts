import { deflateSync } from 'node:zlib';
import { DatasetFormatError, InvalidOptionError } from '@vkd/core';
import { describe, expect, it } from 'vitest';
import { matrixRows, readMatFile } from '../src/mat-file';
import { writeMatFile } from '../src/mat-file-writer';

/** Hand-assembles a MAT v5 file from the MathWorks spec, independently of writeMatFile. */
function header(
  endian: 'IM' | 'MI' = 'IM',
  text = 'MATLAB 5.0 MAT-file, Platform: GLNXA64, Created on: Mon Jan  1 00:00:00 2024',
): Buffer {
  const bytes = Buffer.alloc(128, 0x20);
  bytes.write(text, 0, 'latin1');
  bytes.fill(0, 116, 124);
  if (endian === 'IM') bytes.writeUInt16LE(0x0100, 124);
  else bytes.writeUInt16BE(0x0100, 124);
  bytes.write(endian, 126, 'latin1');
  return bytes;
}

function element(type: number, data: Buffer, littleEndian = true): Buffer {
  const tag = Buffer.alloc(8);
  if (littleEndian) {
    tag.writeUInt32LE(type, 0);
    tag.writeUInt32LE(data.length, 4);
  } else {
    tag.writeUInt32BE(type, 0);
    tag.writeUInt32BE(data.length, 4);
  }
  return Buffer.concat([tag, data, Buffer.alloc((8 - (data.length % 8)) % 8)]);
}

/** Small data element (≤ 4 bytes packed into the tag), as MATLAB writes short names. */
function smallElement(type: number, data: Buffer): Buffer {
  const out = Buffer.alloc(8);
  out.writeUInt32LE((data.length << 16) | type, 0);
  data.copy(out, 4);
  return out;
}

function matrix(name: string, dims: number[], values: Buffer, valueType: number, classId = 6, flagsExtra = 0): Buffer {
  const flags = Buffer.alloc(8);
  flags.writeUInt32LE(classId | flagsExtra, 0);
  const dimBytes = Buffer.alloc(4 * dims.length);
  dims.forEach((dim, index) => dimBytes.writeInt32LE(dim, 4 * index));
  const nameBytes = Buffer.from(name, 'latin1');
  const body = Buffer.concat([
    element(6, flags),
    element(5, dimBytes),
    nameBytes.length <= 4 ? smallElement(1, nameBytes) : element(1, nameBytes),
    element(valueType, values),
  ]);
  return element(14, body);
}

const int32s = (values: number[]) => {
  const out = Buffer.alloc(4 * values.length);
  values.forEach((value, index) => out.writeInt32LE(value, 4 * index));
  return out;
};

describe('readMatFile', () => {
  it('reads a compressed double matrix stored as miINT32, column-major (as MARS tracks_*_info.mat)', () => {
    // [start end pid cam] rows: [1 3 5 1; 4 9 -1 2]; column-major storage: 1 4 3 9 5 -1 1 2
    const inner = matrix('track_test_info', [2, 4], int32s([1, 4, 3, 9, 5, -1, 1, 2]), 5);
    const compressed = deflateSync(inner);
    const tag = Buffer.alloc(8);
    tag.writeUInt32LE(15, 0);
    tag.writeUInt32LE(compressed.length, 4);
    const file = Buffer.concat([header(), tag, compressed]);
    const arrays = readMatFile(file, 'x.mat');
    const array = arrays.get('track_test_info');
    expect(array?.dims).toEqual([2, 4]);
    expect(array?.className).toBe('double');
    expect(matrixRows(arrays, 'track_test_info', 'x.mat', 4)).toEqual([
      [1, 3, 5, 1],
      [4, 9, -1, 2],
    ]);
  });

  it('reads uint16 storage, a small-element name and several variables uncompressed', () => {
    const values = Buffer.alloc(6);
    [3, 7, 65535].forEach((value, index) => values.writeUInt16LE(value, 2 * index));
    const doubles = Buffer.alloc(16);
    doubles.writeDoubleLE(0.5, 0);
    doubles.writeDoubleLE(-2.25, 8);
    const file = Buffer.concat([header(), matrix('q', [1, 3], values, 4), matrix('weights', [2, 1], doubles, 9)]);
    const arrays = readMatFile(file, 'q.mat');
    expect(Array.from(arrays.get('q')?.data ?? [])).toEqual([3, 7, 65535]);
    expect(Array.from(arrays.get('weights')?.data ?? [])).toEqual([0.5, -2.25]);
  });

  it('reads big-endian files', () => {
    const flags = Buffer.alloc(8);
    flags.writeUInt32BE(6, 0);
    const dims = Buffer.alloc(8);
    dims.writeInt32BE(1, 0);
    dims.writeInt32BE(2, 4);
    const values = Buffer.alloc(16);
    values.writeDoubleBE(1.5, 0);
    values.writeDoubleBE(42, 8);
    const body = Buffer.concat([
      element(6, flags, false),
      element(5, dims, false),
      element(1, Buffer.from('big'), false),
      element(9, values, false),
    ]);
    const file = Buffer.concat([header('MI'), element(14, body, false)]);
    expect(Array.from(readMatFile(file, 'b.mat').get('big')?.data ?? [])).toEqual([1.5, 42]);
  });

  it('round-trips writeMatFile for every storage, compressed or not', () => {
    for (const compress of [true, false]) {
      for (const storage of ['double', 'int32', 'uint16', 'uint8'] as const) {
        const rows = [
          [1, 2, 3],
          [4, 5, 250],
        ];
        const bytes = writeMatFile(
          [
            { name: 'm', rows, storage },
            { name: 'single', rows: [[7]] },
          ],
          { compress },
        );
        const arrays = readMatFile(bytes, 'm.mat');
        expect(matrixRows(arrays, 'm', 'm.mat', 3)).toEqual(rows);
        expect(matrixRows(arrays, 'single', 'm.mat')).toEqual([[7]]);
      }
    }
  });

  it('rejects bad files with DatasetFormatError naming the file', () => {
    const good = writeMatFile([{ name: 'm', rows: [[1, 2]] }], { compress: false });
    const cases: [Uint8Array, RegExp][] = [
      [Buffer.from('short'), /shorter than the 128-byte MAT header/],
      [Buffer.concat([header('IM', 'MATLAB 7.3 MAT-file, HDF5'), Buffer.alloc(8)]), /v7\.3/],
      [Buffer.concat([Buffer.alloc(128, 0x41)]), /MATLAB 5\.0 MAT-file/],
      [good.subarray(0, good.length - 12), /truncated/],
      [Buffer.concat([header(), element(15, Buffer.from('not zlib at all'))]), /corrupt zlib/],
      [Buffer.concat([header(), matrix('s', [1, 1], Buffer.alloc(0), 9, 2)]), /struct array/],
      [Buffer.concat([header(), matrix('c', [1, 2], Buffer.alloc(16), 9, 6, 0x800)]), /complex/],
      [
        Buffer.concat([header(), matrix('n', [2, 2], Buffer.alloc(16), 9)]),
        /has 2 values but dimensions \[2, 2\] need 4/,
      ],
    ];
    for (const [bytes, message] of cases) {
      let error: unknown;
      try {
        readMatFile(bytes, '/data/info/bad.mat');
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(DatasetFormatError);
      expect((error as DatasetFormatError).file).toBe('/data/info/bad.mat');
      expect((error as Error).message).toMatch(message);
    }
  });

  it('matrixRows names a missing variable and a wrong column count', () => {
    const arrays = readMatFile(writeMatFile([{ name: 'm', rows: [[1, 2]] }]), 'm.mat');
    expect(() => matrixRows(arrays, 'other', 'm.mat')).toThrow(/variable "other" not found \(found: m\)/);
    expect(() => matrixRows(arrays, 'm', 'm.mat', 4)).toThrow(/dimensions \[1, 2\], expected \[N, 4\]/);
  });

  it('writeMatFile rejects ragged rows and values that do not fit the storage', () => {
    expect(() => writeMatFile([{ name: 'm', rows: [[1, 2], [3]] }])).toThrow(InvalidOptionError);
    expect(() => writeMatFile([{ name: 'm', rows: [[-1]], storage: 'uint16' }])).toThrow(/holds only integers ≥ 0/);
    expect(() => writeMatFile([{ name: 'm', rows: [[1.5]], storage: 'int32' }])).toThrow(InvalidOptionError);
  });
});
