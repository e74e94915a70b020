import { maskedCrc32c } from './crc32c';

/** Protobuf wire types used by the TensorBoard `Event` message. */
const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;

const tag = (field: number, wireType: number) => varint((field << 3) | wireType);

function varint(value: number): number[] {
  const bytes: number[] = [];
  let rest = BigInt(value);
  do {
    let byte = Number(rest & 0x7fn);
    rest >>= 7n;
    if (rest > 0n) byte |= 0x80;
    bytes.push(byte);
  } while (rest > 0n);
  return bytes;
}

const lengthDelimited = (field: number, payload: Uint8Array | number[]) => [
  ...tag(field, LENGTH_DELIMITED),
  ...varint(payload.length),
  ...payload,
];

function float64(value: number): number[] {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, value, true);
  return [...new Uint8Array(view.buffer)];
}

function float32(value: number): number[] {
  const view = new DataView(new ArrayBuffer(4));
  view.setFloat32(0, value, true);
  return [...new Uint8Array(view.buffer)];
}

/** What one event holds: either the file-version header or scalar summary values. */
export interface EventContent {
  readonly wallTime: number;
  readonly step: number;
  readonly fileVersion?: string;
  readonly scalars?: ReadonlyArray<{ readonly tag: string; readonly value: number }>;
}

/**
 * A `tensorflow.Event` protobuf (tensorflow/core/util/event.proto): `wall_time` (1, double), `step` (2, int64),
 * `file_version` (3, string) or `summary` (5, `Summary` with `value` (1) = `{ tag (1), simple_value (2, float) }`).
 */
export function encodeEvent(event: EventContent): Uint8Array {
  const bytes: number[] = [...tag(1, FIXED64), ...float64(event.wallTime)];
  if (event.step !== 0) bytes.push(...tag(2, VARINT), ...varint(event.step));
  if (event.fileVersion !== undefined) bytes.push(...lengthDelimited(3, new TextEncoder().encode(event.fileVersion)));
  if (event.scalars && event.scalars.length > 0) {
    const summary = event.scalars.flatMap((scalar) =>
      lengthDelimited(1, [
        ...lengthDelimited(1, new TextEncoder().encode(scalar.tag)),
        ...tag(2, FIXED32),
        ...float32(scalar.value),
      ]),
    );
    bytes.push(...lengthDelimited(5, summary));
  }
  return Uint8Array.from(bytes);
}

/** TFRecord framing: uint64 length, masked CRC-32C of the length, data, masked CRC-32C of the data (little-endian). */
export function frameRecord(data: Uint8Array): Uint8Array {
  const record = new Uint8Array(8 + 4 + data.length + 4);
  const view = new DataView(record.buffer);
  view.setBigUint64(0, BigInt(data.length), true);
  view.setUint32(8, maskedCrc32c(record.subarray(0, 8)), true);
  record.set(data, 12);
  view.setUint32(12 + data.length, maskedCrc32c(data), true);
  return record;
}
