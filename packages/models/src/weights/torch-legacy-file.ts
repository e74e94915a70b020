import { CheckpointError } from '@vkd/core';
import { readPickle } from './restricted-unpickler';
import { dtypeItemSize, type SafetensorsDtype } from './safetensors';
import { storageDtype, torchGlobalResolver } from './torch-pickle-globals';
import { storageIdFields, type TorchFileContents, type TorchStorageReference } from './torch-tensor';

/** The first pickle of every legacy `torch.save` stream (`torch/serialization.py` MAGIC_NUMBER). */
export const TORCH_LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL_VERSION = 1001;

const noGlobals =
  (source: string) =>
  (module: string, name: string): never => {
    throw new CheckpointError(
      source,
      `the legacy header names the Python global "${module}.${name}", which torch.save never writes.`,
    );
  };

/** Whether `bytes` start with the legacy magic-number pickle (decided by reading that pickle, not by one byte). */
export function hasTorchLegacyMagic(bytes: Uint8Array): boolean {
  if (bytes[0] !== 0x80) return false;
  try {
    return (
      readPickle(bytes.subarray(0, 64), 0, { source: '<magic>', resolveGlobal: noGlobals('<magic>') }).value ===
      TORCH_LEGACY_MAGIC
    );
  } catch {
    return false;
  }
}

/**
 * Reads a legacy `torch.save` stream (torch < 1.6, or `_use_new_zipfile_serialization=False`): magic, protocol
 * version, sys_info, the object pickle (persistent ids `('storage', type, root_key, location, root_numel,
 * view_metadata)`), the list of storage keys, then per key an 8-byte little-endian element count and the raw bytes.
 * @throws CheckpointError naming `source` for a truncated stream or a big-endian file; UnsafePickleError for a
 *   refused global.
 */
export function readTorchLegacyFile(bytes: Uint8Array, source: string): TorchFileContents {
  const header = { source, resolveGlobal: noGlobals(source) };
  const magic = readPickle(bytes, 0, header);
  if (magic.value !== TORCH_LEGACY_MAGIC)
    throw new CheckpointError(source, 'not a legacy torch.save stream (no magic number).');
  const protocol = readPickle(bytes, magic.end, header);
  if (protocol.value !== LEGACY_PROTOCOL_VERSION)
    throw new CheckpointError(
      source,
      `legacy torch.save protocol ${String(protocol.value)} is not supported (expected ${LEGACY_PROTOCOL_VERSION}).`,
    );
  const systemInfo = readPickle(bytes, protocol.end, header);
  if (systemInfo.value instanceof Map && systemInfo.value.get('little_endian') === false) {
    throw new CheckpointError(
      source,
      'the storages are big-endian; only little-endian files are supported. Save it again on a little-endian machine.',
    );
  }
  const dtypes = new Map<string, SafetensorsDtype>();
  const body = readPickle(bytes, systemInfo.end, {
    source,
    resolveGlobal: torchGlobalResolver(source),
    persistentLoad(id): TorchStorageReference {
      const { type, key, numel, rest } = storageIdFields(id, source);
      const dtype = storageDtype(type, source);
      dtypes.set(key, dtype);
      const view = rest[0];
      if (Array.isArray(view) && Number.isInteger(view[1]) && Number.isInteger(view[2])) {
        return {
          kind: 'torch-storage',
          key,
          numel,
          dtype,
          view: { offset: view[1] as number, numel: view[2] as number },
        };
      }
      return { kind: 'torch-storage', key, numel, dtype };
    },
  });
  const keyList = readPickle(bytes, body.end, header);
  if (!Array.isArray(keyList.value))
    throw new CheckpointError(source, 'the legacy storage key list is not a list: the file is malformed.');
  const storages = new Map<string, Uint8Array>();
  let position = keyList.end;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const rawKey of keyList.value) {
    const key = String(rawKey);
    const dtype = dtypes.get(key);
    if (!dtype)
      throw new CheckpointError(
        source,
        `storage "${key}" is listed but no tensor refers to it: the file is malformed.`,
      );
    if (position + 8 > bytes.length)
      throw new CheckpointError(
        source,
        `truncated file: the header of storage "${key}" would start at byte ${position} of ${bytes.length}.`,
      );
    const count = Number(view.getBigInt64(position, true));
    const size = count * dtypeItemSize(dtype);
    position += 8;
    if (count < 0 || position + size > bytes.length) {
      throw new CheckpointError(
        source,
        `truncated file: storage "${key}" needs ${size} bytes from byte ${position}, but the file has ${bytes.length}. Download or save it again.`,
      );
    }
    storages.set(key, bytes.subarray(position, position + size));
    position += size;
  }
  return {
    object: body.value,
    storageBytes(key) {
      const data = storages.get(key);
      if (!data)
        throw new CheckpointError(source, `storage "${key}" is not in the file's storage list: the file is malformed.`);
      return data;
    },
  };
}
