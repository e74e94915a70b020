import { CheckpointError } from '@vkd/core';
import { readPickle } from './restricted-unpickler';
import { storageDtype, torchGlobalResolver } from './torch-pickle-globals';
import { storageIdFields, type TorchFileContents, type TorchStorageReference } from './torch-tensor';
import { openZipArchive } from './zip-archive';

/**
 * Reads a `torch.save` zip file (torch ≥ 1.6): `<folder>/data.pkl` through the restricted unpickler, storages from
 * `<folder>/data/<key>` (persistent ids `('storage', type, key, location, numel)`).
 * @throws CheckpointError naming `source` for a truncated archive, a missing `data.pkl` or storage, a big-endian
 *   file; UnsafePickleError for a refused global.
 */
export function readTorchZipFile(bytes: Uint8Array, source: string): TorchFileContents {
  const archive = openZipArchive(bytes, source);
  const names = [...archive.members.keys()];
  const pickles = names.filter((name) => /^[^/]+\/data\.pkl$/.test(name));
  if (pickles.length !== 1) {
    const listed = names.length <= 6 ? names.join(', ') : `${names.slice(0, 6).join(', ')}, … (${names.length} in all)`;
    throw new CheckpointError(
      source,
      `${pickles.length === 0 ? 'the zip archive has no <folder>/data.pkl' : 'the zip archive has several data.pkl'}, so it is not a file written by torch.save (members: ${listed || 'none'}).`,
    );
  }
  const folder = (pickles[0] as string).slice(0, -'data.pkl'.length);
  const byteOrder = archive.members.has(`${folder}byteorder`)
    ? new TextDecoder().decode(archive.read(`${folder}byteorder`)).trim()
    : 'little';
  if (byteOrder !== 'little')
    throw new CheckpointError(
      source,
      `the storages are ${byteOrder}-endian; only little-endian files are supported. Save it again on a little-endian machine.`,
    );
  const { value } = readPickle(archive.read(`${folder}data.pkl`), 0, {
    source,
    resolveGlobal: torchGlobalResolver(source),
    persistentLoad(id): TorchStorageReference {
      const { type, key, numel } = storageIdFields(id, source);
      return { kind: 'torch-storage', key, numel, dtype: storageDtype(type, source) };
    },
  });
  return {
    object: value,
    storageBytes(key) {
      const name = `${folder}data/${key}`;
      if (!archive.members.has(name))
        throw new CheckpointError(
          source,
          `the zip archive lacks the storage "${name}" its data.pkl refers to (truncated or edited file?).`,
        );
      return archive.read(name);
    },
  };
}
