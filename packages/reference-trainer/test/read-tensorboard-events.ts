import { readFileSync } from 'node:fs';

/**
 * An independent reader of TensorBoard event files for the tests: TFRecord framing checked with a bit-by-bit CRC-32C
 * (no table, unlike the writer), and a generic protobuf walk of `Event` / `Summary` / `Value`.
 */
function crc32cBitwise(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = (crc >>> 1) ^ (0x82f63b78 & -(crc & 1));
  }
  return ~crc >>> 0;
}

const mask = (crc: number) => (((crc >>> 15) | (crc << 17)) + 0xa282ead8) >>> 0;

/** Protobuf fields of one message: field number → raw values (numbers for varint/fixed, bytes for length-delimited). */
function fields(bytes: Uint8Array): Map<number, Array<bigint | Uint8Array | DataView>> {
  const result = new Map<number, Array<bigint | Uint8Array | DataView>>();
  let offset = 0;
  const readVarint = () => {
    let value = 0n;
    let shift = 0n;
    for (;;) {
      const byte = bytes[offset++] as number;
      value |= BigInt(byte & 0x7f) << shift;
      shift += 7n;
      if ((byte & 0x80) === 0) return value;
    }
  };
  while (offset < bytes.length) {
    const key = Number(readVarint());
    const field = key >> 3;
    const wire = key & 7;
    let value: bigint | Uint8Array | DataView;
    if (wire === 0) value = readVarint();
    else if (wire === 1 || wire === 5) {
      const size = wire === 1 ? 8 : 4;
      value = new DataView(bytes.buffer, bytes.byteOffset + offset, size);
      offset += size;
    } else if (wire === 2) {
      const length = Number(readVarint());
      value = bytes.subarray(offset, offset + length);
      offset += length;
    } else throw new Error(`unexpected wire type ${wire}`);
    result.set(field, [...(result.get(field) ?? []), value]);
  }
  return result;
}

/** One decoded event. */
export interface DecodedEvent {
  wallTime: number;
  step: number;
  fileVersion?: string;
  scalars: Array<{ tag: string; value: number }>;
}

/** Reads every record of an event file, checking both CRCs of each. */
export function readTensorBoardEvents(path: string): DecodedEvent[] {
  const file = new Uint8Array(readFileSync(path));
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const events: DecodedEvent[] = [];
  let offset = 0;
  while (offset < file.length) {
    const length = Number(view.getBigUint64(offset, true));
    if (view.getUint32(offset + 8, true) !== mask(crc32cBitwise(file.subarray(offset, offset + 8))))
      throw new Error(`bad length CRC at ${offset}`);
    const data = file.subarray(offset + 12, offset + 12 + length);
    if (view.getUint32(offset + 12 + length, true) !== mask(crc32cBitwise(data)))
      throw new Error(`bad data CRC at ${offset}`);
    offset += 16 + length;
    const event = fields(data);
    const decoded: DecodedEvent = {
      wallTime: (event.get(1)?.[0] as DataView | undefined)?.getFloat64(0, true) ?? Number.NaN,
      step: Number((event.get(2)?.[0] as bigint | undefined) ?? 0n),
      scalars: [],
    };
    const version = event.get(3)?.[0];
    if (version) decoded.fileVersion = new TextDecoder().decode(version as Uint8Array);
    for (const summary of (event.get(5) ?? []) as Uint8Array[]) {
      for (const value of (fields(summary).get(1) ?? []) as Uint8Array[]) {
        const parts = fields(value);
        decoded.scalars.push({
          tag: new TextDecoder().decode(parts.get(1)?.[0] as Uint8Array),
          value: (parts.get(2)?.[0] as DataView | undefined)?.getFloat32(0, true) ?? Number.NaN,
        });
      }
    }
    events.push(decoded);
  }
  return events;
}
