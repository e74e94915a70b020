import { CheckpointError } from '@vkd/core';
import { inflateSync } from 'fflate';

/** One member of a zip archive. */
export interface ZipMember {
  name: string;
  /** 0 = stored (what `torch.save` writes), 8 = deflate. */
  method: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

/** A zip archive read from memory: member names, and their bytes on demand. */
export interface ZipArchive {
  readonly members: ReadonlyMap<string, ZipMember>;
  /** The member's bytes: a view into the file for stored members, a new array for deflated ones. */
  read(name: string): Uint8Array;
}

const LOCAL_HEADER = 0x04034b50;
const CENTRAL_HEADER = 0x02014b50;
const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_END = 0x06064b50;
const ZIP64_EXTRA = 0x0001;
/** The end record is 22 bytes plus a comment of at most 65,535 bytes. */
const MAX_END_SEARCH = 22 + 0xffff;

/** Whether `bytes` start with a zip local-file signature (`PK\x03\x04`). */
export function hasZipSignature(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

/**
 * Opens a zip archive held in memory (central directory, zip64 included); members stored or deflated.
 * @param source file name for error messages.
 * @throws CheckpointError naming `source` when the archive is truncated or malformed.
 */
export function openZipArchive(bytes: Uint8Array, source: string): ZipArchive {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fail = (reason: string): never => {
    throw new CheckpointError(
      source,
      `${reason}. The file is truncated or not a complete zip archive: download or save it again.`,
    );
  };
  const u16 = (at: number) =>
    at + 2 <= bytes.length ? view.getUint16(at, true) : fail(`zip structure at byte ${at} past the end`);
  const u32 = (at: number) =>
    at + 4 <= bytes.length ? view.getUint32(at, true) : fail(`zip structure at byte ${at} past the end`);
  const u64 = (at: number) => {
    if (at + 8 > bytes.length) fail(`zip structure at byte ${at} past the end`);
    const value = view.getBigUint64(at, true);
    return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : fail(`zip64 field ${value} is too large`);
  };
  let end = -1;
  for (let at = bytes.length - 22; at >= Math.max(0, bytes.length - MAX_END_SEARCH); at--) {
    if (view.getUint32(at, true) === END_OF_CENTRAL_DIRECTORY) {
      end = at;
      break;
    }
  }
  if (end < 0) fail('no end-of-central-directory record');
  let count = u16(end + 10);
  let directorySize = u32(end + 12);
  let directoryOffset = u32(end + 16);
  if (end >= 20 && u32(end - 20) === ZIP64_LOCATOR) {
    const zip64End = u64(end - 20 + 8);
    if (u32(zip64End) !== ZIP64_END) fail('the zip64 end record is missing');
    count = u64(zip64End + 32);
    directorySize = u64(zip64End + 40);
    directoryOffset = u64(zip64End + 48);
  }
  if (directoryOffset + directorySize > bytes.length)
    fail(`the central directory (bytes ${directoryOffset}–${directoryOffset + directorySize}) lies past the end`);
  const members = new Map<string, ZipMember>();
  let at = directoryOffset;
  for (let index = 0; index < count; index++) {
    if (u32(at) !== CENTRAL_HEADER) fail(`central directory entry ${index} at byte ${at} has no signature`);
    const method = u16(at + 10);
    let compressedSize = u32(at + 20);
    let size = u32(at + 24);
    const nameLength = u16(at + 28);
    const extraLength = u16(at + 30);
    const commentLength = u16(at + 32);
    let localHeaderOffset = u32(at + 42);
    if (at + 46 + nameLength > bytes.length) fail('a member name lies past the end');
    const name = new TextDecoder().decode(bytes.subarray(at + 46, at + 46 + nameLength));
    // zip64 extra field: the 64-bit values of those 32-bit fields that are 0xFFFFFFFF, in this order.
    for (let extra = at + 46 + nameLength; extra + 4 <= at + 46 + nameLength + extraLength; ) {
      const id = u16(extra);
      const length = u16(extra + 2);
      if (id === ZIP64_EXTRA) {
        let field = extra + 4;
        if (size === 0xffffffff) {
          size = u64(field);
          field += 8;
        }
        if (compressedSize === 0xffffffff) {
          compressedSize = u64(field);
          field += 8;
        }
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = u64(field);
      }
      extra += 4 + length;
    }
    members.set(name, { name, method, compressedSize, size, localHeaderOffset });
    at += 46 + nameLength + extraLength + commentLength;
  }
  const read = (name: string): Uint8Array => {
    const member = members.get(name);
    if (!member) throw new CheckpointError(source, `the zip archive has no member "${name}".`);
    const header = member.localHeaderOffset;
    if (u32(header) !== LOCAL_HEADER) fail(`member "${name}" has no local header at byte ${header}`);
    const start = header + 30 + u16(header + 26) + u16(header + 28);
    if (start + member.compressedSize > bytes.length) {
      fail(`member "${name}" needs bytes ${start}–${start + member.compressedSize} but the file has ${bytes.length}`);
    }
    const data = bytes.subarray(start, start + member.compressedSize);
    if (member.method === 0) return data;
    if (member.method !== 8)
      throw new CheckpointError(
        source,
        `zip member "${name}" uses compression method ${member.method}; only stored (0) and deflate (8) are supported.`,
      );
    try {
      const inflated = inflateSync(data, { out: new Uint8Array(member.size) });
      if (inflated.length !== member.size)
        fail(`member "${name}" inflates to ${inflated.length} bytes, not ${member.size}`);
      return inflated;
    } catch (error) {
      if (error instanceof CheckpointError) throw error;
      return fail(`member "${name}" cannot be inflated (${(error as Error).message})`);
    }
  };
  return { members, read };
}
