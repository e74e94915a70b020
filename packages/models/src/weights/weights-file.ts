import { CheckpointError } from '@vkd/core';
import { parseSafetensors, type SafetensorsEntry } from './safetensors';
import { hasTorchLegacyMagic, readTorchLegacyFile } from './torch-legacy-file';
import { extractStateDict } from './torch-state-dict';
import { readTorchZipFile } from './torch-zip-file';
import { hasZipSignature } from './zip-archive';

/** Weight file formats {@link readWeightsFile} reads. */
export type WeightsFileFormat = 'torch-zip' | 'torch-legacy' | 'safetensors';

/**
 * Tells the format by structure, never by one byte: the zip signature (`torch.save` since 1.6), else the legacy
 * magic-number pickle, else a safetensors header that fits in the file and parses.
 * @returns the format, or the reason each was ruled out.
 */
export function detectWeightsFileFormat(
  bytes: Uint8Array,
): { format: WeightsFileFormat } | { format: undefined; reason: string } {
  if (hasZipSignature(bytes)) return { format: 'torch-zip' };
  if (hasTorchLegacyMagic(bytes)) return { format: 'torch-legacy' };
  try {
    parseSafetensors(bytes, 'file');
    return { format: 'safetensors' };
  } catch (error) {
    const isTar = bytes.length > 262 && new TextDecoder('latin1').decode(bytes.subarray(257, 262)) === 'ustar';
    const reason = isTar
      ? 'a tar archive, as torch < 0.4 saved: load it with a newer torch and save it again'
      : `not a torch.save zip (no PK signature), not a legacy torch.save stream (no magic-number pickle), and not safetensors (${(error as Error).message.replace(/^file: /, '').replace(/\.$/, '')})`;
    return { format: undefined, reason };
  }
}

/**
 * Reads the tensors of a weights file in any supported format: a `torch.save` state_dict (zip or legacy, possibly
 * wrapped in a dict) or safetensors.
 * @throws CheckpointError naming `source` for an unknown, truncated or malformed file; UnsafePickleError for a pickle
 *   naming a global outside the allow-list.
 */
export function readWeightsFile(
  bytes: Uint8Array,
  source: string,
): { format: WeightsFileFormat; entries: Record<string, SafetensorsEntry> } {
  const detected = detectWeightsFileFormat(bytes);
  if (detected.format === undefined)
    throw new CheckpointError(source, `unknown weights file format: ${detected.reason}.`);
  if (detected.format === 'safetensors')
    return { format: 'safetensors', entries: parseSafetensors(bytes, source).entries };
  const contents =
    detected.format === 'torch-zip' ? readTorchZipFile(bytes, source) : readTorchLegacyFile(bytes, source);
  return { format: detected.format, entries: extractStateDict(contents, source) };
}
