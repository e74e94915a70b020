import fs from 'node:fs';
import { FileFormatError } from '@vkd/core';
import { readNpy, writeNpy } from '@vkd/metrics';
import { describe, expect, it } from 'vitest';

// Buffers straight from fs (pooled, sliced views) on purpose: the reader must copy correctly from them.
const fixture = (name: string) => fs.readFileSync(new URL(`./__fixtures__/${name}`, import.meta.url));

describe('readNpy', () => {
  it('reads files written by numpy.save (float64, float32, int64)', () => {
    const f8 = readNpy(fixture('features-f8.npy'));
    expect(f8.dtype).toBe('<f8');
    expect(f8.shape).toEqual([2, 3]);
    expect(Array.from(f8.data as Float64Array)).toEqual([0, 0.25, 0.5, 0.75, 1, 1.25]);
    const f4 = readNpy(fixture('features-f4.npy'));
    expect(f4.shape).toEqual([3, 2]);
    expect(Array.from(f4.data as Float32Array)).toEqual([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5]);
    const ids = readNpy(fixture('ids-i8.npy'));
    expect(Array.from(ids.data as BigInt64Array, Number)).toEqual([3, -1, 7]);
  });

  it('round-trips writeNpy output', () => {
    const data = new Float32Array([1.5, -2, 3.25, 4, 5, 6]);
    const decoded = readNpy(writeNpy(data, [2, 3]));
    expect(decoded.shape).toEqual([2, 3]);
    expect(Array.from(decoded.data as Float32Array)).toEqual(Array.from(data));
    expect(writeNpy(new Int32Array(3)).length % 64).toBe(12); // 64-byte aligned header + 12 data bytes
  });

  it('rejects what it cannot read exactly, naming the file', () => {
    expect(() => readNpy(fixture('fortran.npy'), 'fortran.npy')).toThrow(
      /fortran.npy: Fortran-ordered arrays are not supported/,
    );
    expect(() => readNpy(fixture('big-endian.npy'), 'b.npy')).toThrow(/unsupported dtype '>f4'/);
    expect(() => readNpy(new Uint8Array([1, 2, 3]), 'x.npy')).toThrow(FileFormatError);
    const complete = writeNpy(new Float32Array(4));
    expect(() => readNpy(complete.subarray(0, complete.length - 4), 't.npy')).toThrow(
      /expected 16 data bytes for shape \(4\) and dtype '<f4', found 12/,
    );
    expect(() => readNpy(complete.subarray(0, 40), 't.npy')).toThrow(/truncated header/);
  });
});
