import { CheckpointError } from '@vkd/core';
import type { SafetensorsEntry } from './safetensors';
import { isTorchTensorRecord, materialiseTensor, type TorchFileContents, type TorchTensorRecord } from './torch-tensor';

/** Keys under which training scripts commonly wrap a state_dict (`{'state_dict': …, 'epoch': …}`), in search order. */
export const STATE_DICT_WRAPPER_KEYS: readonly string[] = ['state_dict', 'model', 'net'];

function isStateDict(value: unknown): value is Map<string, TorchTensorRecord> {
  if (!(value instanceof Map) || value.size === 0) return false;
  for (const [key, entry] of value) if (typeof key !== 'string' || !isTorchTensorRecord(entry)) return false;
  return true;
}

function describeKeys(value: unknown): string {
  if (!(value instanceof Map))
    return `the file holds a ${Array.isArray(value) ? 'list' : value === null ? 'None' : typeof value}`;
  const keys = [...value.keys()].map(String);
  const shown = keys.length <= 8 ? keys.join(', ') : `${keys.slice(0, 8).join(', ')}, … (${keys.length} in all)`;
  return `its top-level keys are: ${shown || '(none)'}`;
}

/**
 * Finds the state_dict in an unpickled `torch.save` object — an (Ordered)dict of tensors, or a dict holding one under
 * {@link STATE_DICT_WRAPPER_KEYS} — and copies each tensor into a contiguous entry.
 * @throws CheckpointError naming `source` (and the keys found) when there is no state_dict.
 */
export function extractStateDict(contents: TorchFileContents, source: string): Record<string, SafetensorsEntry> {
  const { object } = contents;
  let stateDict: Map<string, TorchTensorRecord> | undefined;
  if (isStateDict(object)) stateDict = object;
  else if (object instanceof Map) {
    const key = STATE_DICT_WRAPPER_KEYS.find((name) => isStateDict(object.get(name)));
    if (key !== undefined) stateDict = object.get(key) as Map<string, TorchTensorRecord>;
  }
  if (!stateDict) {
    throw new CheckpointError(
      source,
      `no state_dict found: ${describeKeys(object)}. Expected a dict of tensors (torch.save(model.state_dict(), path)) or a dict holding one under ${STATE_DICT_WRAPPER_KEYS.map((key) => `"${key}"`).join(', ')}.`,
    );
  }
  const entries: Record<string, SafetensorsEntry> = {};
  for (const [name, record] of stateDict)
    entries[name] = materialiseTensor(record, contents.storageBytes(record.storage.key), name, source);
  return entries;
}
