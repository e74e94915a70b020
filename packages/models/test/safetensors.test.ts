import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { FileFormatError, InvalidOptionError } from '@vkd/core';
import { expectNoLeak, useBackend } from '@vkd/testing';
import {
  encodeSafetensors,
  entryToFloat32,
  entryToInt32,
  parseSafetensors,
  readSafetensors,
  writeSafetensors,
} from '@vkd/models';

/** Builds a file by hand: 8-byte LE header length, JSON header, data. */
function handMade(header: object, data: number[]): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const bytes = new Uint8Array(8 + json.length + data.length);
  new DataView(bytes.buffer).setUint32(0, json.length, true);
  bytes.set(json, 8);
  bytes.set(data, 8 + json.length);
  return bytes;
}

describe('safetensors', () => {
  beforeAll(() => useBackend('cpu'));

  it('parses a hand-made file: F32 little-endian, F16, BF16, I64, BOOL and metadata', () => {
    const file = handMade(
      {
        __metadata__: { note: 'hi' },
        a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
        h: { dtype: 'F16', shape: [3], data_offsets: [8, 14] },
        b: { dtype: 'BF16', shape: [1], data_offsets: [14, 16] },
        n: { dtype: 'I64', shape: [1], data_offsets: [16, 24] },
        m: { dtype: 'BOOL', shape: [2], data_offsets: [24, 26] },
      },
      [
        0,
        0,
        0x80,
        0x3f,
        0,
        0,
        0,
        0xc0, // 1.0, -2.0
        0x00,
        0x3c,
        0x00,
        0xc0,
        0x00,
        0x38, // F16 1.0, -2.0, 0.5
        0x40,
        0x40, // BF16 3.0
        0x2a,
        0,
        0,
        0,
        0,
        0,
        0,
        0, // 42
        1,
        0,
      ],
    );
    const { entries, metadata } = parseSafetensors(file);
    expect(metadata).toEqual({ note: 'hi' });
    expect(Array.from(entryToFloat32(entries.a!))).toEqual([1, -2]);
    expect(Array.from(entryToFloat32(entries.h!))).toEqual([1, -2, 0.5]);
    expect(Array.from(entryToFloat32(entries.b!))).toEqual([3]);
    expect(Array.from(entryToInt32(entries.n!))).toEqual([42]);
    expect(Array.from(entryToInt32(entries.m!))).toEqual([1, 0]);
  });

  it('refuses a header with a repeated key (JSON.parse would keep the last entry)', () => {
    const json = new TextEncoder().encode(
      '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}',
    );
    const bytes = new Uint8Array(8 + json.length + 8);
    new DataView(bytes.buffer).setUint32(0, json.length, true);
    bytes.set(json, 8);
    expect(() => parseSafetensors(bytes, 'twice.safetensors')).toThrow(FileFormatError);
    expect(() => parseSafetensors(bytes, 'twice.safetensors')).toThrow(
      /twice\.safetensors: header is not valid UTF-8 JSON \(duplicate key "a" at line 1: each key may appear once/,
    );
  });

  it('encodes with sorted keys, an 8-byte aligned header and the exact byte layout', () => {
    const bytes = encodeSafetensors(
      {
        z: { dtype: 'I32', shape: [1], data: new Int32Array([7]) },
        a: { dtype: 'F32', shape: [1, 1], data: new Float32Array([1]) },
      },
      { k: 'v' },
    );
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + headerLength) % 8).toBe(0);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
    expect(header).toEqual({
      __metadata__: { k: 'v' },
      a: { dtype: 'F32', shape: [1, 1], data_offsets: [0, 4] },
      z: { dtype: 'I32', shape: [1], data_offsets: [4, 8] },
    });
    expect(Array.from(bytes.subarray(8 + headerLength))).toEqual([0, 0, 0x80, 0x3f, 7, 0, 0, 0]);
    expect(() => encodeSafetensors({ x: { dtype: 'F32', shape: [2], data: new Float32Array(3) } })).toThrow(
      InvalidOptionError,
    );
  });

  it('round-trips tensors bit-exactly through writeSafetensors / readSafetensors without leaks', async () => {
    const tensors = {
      weights: tf.tensor([
        [1.5, -0, Number.MIN_VALUE],
        [3e38, Number.NaN, 1 / 3],
      ]),
      step: tf.tensor([3, -4], [2], 'int32'),
      mask: tf.tensor([true, false], [2], 'bool'),
    };
    const bytes = await expectNoLeak(() => writeSafetensors(tensors, { epoch: '3' }));
    const before = tf.memory().numTensors;
    const { tensors: read, metadata } = readSafetensors(bytes);
    expect(tf.memory().numTensors).toBe(before + 3);
    expect(metadata).toEqual({ epoch: '3' });
    expect(new Uint8Array(((await read.weights!.data()) as Float32Array).buffer)).toEqual(
      new Uint8Array(((await tensors.weights.data()) as Float32Array).buffer),
    );
    expect(read.step!.dtype).toBe('int32');
    expect(Array.from(await read.step!.data())).toEqual([3, -4]);
    expect(read.mask!.dtype).toBe('bool');
    expect(Array.from(await read.mask!.data())).toEqual([1, 0]);
    tf.dispose([...Object.values(tensors), ...Object.values(read)]);
  });

  it.each([
    ['too short', new Uint8Array(4), /8-byte/],
    [
      'header longer than the file',
      handMade({}, []).map((value, index) => (index === 0 ? 200 : value)),
      /does not fit/,
    ],
    [
      'bad JSON',
      (() => {
        const bytes = handMade({ a: 1 }, []);
        bytes[8] = 0x5b;
        return bytes;
      })(),
      /JSON/,
    ],
    ['unknown dtype', handMade({ a: { dtype: 'Q8', shape: [1], data_offsets: [0, 1] } }, [0]), /dtype "Q8"/],
    [
      'size mismatch',
      handMade({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 4] } }, [0, 0, 0, 0]),
      /needs 8 bytes/,
    ],
    ['truncated data', handMade({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, [0, 0, 0, 0]), /outside/],
    [
      'overlap',
      handMade(
        { a: { dtype: 'U8', shape: [2], data_offsets: [0, 2] }, b: { dtype: 'U8', shape: [2], data_offsets: [1, 3] } },
        [0, 0, 0],
      ),
      /overlap/,
    ],
    ['negative shape', handMade({ a: { dtype: 'U8', shape: [-1], data_offsets: [0, 0] } }, []), /invalid shape/],
  ])('rejects %s with FileFormatError', (_, bytes, message) => {
    expect(() => parseSafetensors(bytes, 'bad.safetensors')).toThrow(FileFormatError);
    expect(() => parseSafetensors(bytes, 'bad.safetensors')).toThrow(message);
    expect(() => parseSafetensors(bytes, 'bad.safetensors')).toThrow(/bad\.safetensors/);
  });
});
