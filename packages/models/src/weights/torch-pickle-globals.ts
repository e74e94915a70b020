import { CheckpointError, UnsafePickleError } from '@vkd/core';
import type { PickleGlobal } from './restricted-unpickler';
import type { SafetensorsDtype } from './safetensors';
import type { TorchStorageReference, TorchTensorRecord } from './torch-tensor';

/** `torch.<Name>Storage` types a `torch.save` pickle names, and the element type of each. */
export const TORCH_STORAGE_DTYPES: Readonly<Record<string, SafetensorsDtype>> = {
  FloatStorage: 'F32',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  DoubleStorage: 'F64',
  LongStorage: 'I64',
  IntStorage: 'I32',
  ShortStorage: 'I16',
  CharStorage: 'I8',
  ByteStorage: 'U8',
  BoolStorage: 'BOOL',
};

/** A storage type marker (`torch.FloatStorage`, …) as the unpickler passes it around. */
export interface TorchStorageType extends PickleGlobal {
  readonly dtype: SafetensorsDtype;
}

function integers(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((item) => Number.isInteger(item));
}

function isStorage(value: unknown): value is TorchStorageReference {
  return value !== null && typeof value === 'object' && (value as { kind?: unknown }).kind === 'torch-storage';
}

/**
 * The allow-list of Python globals a `torch.save` state_dict may name: containers, the tensor/parameter rebuild
 * functions and the storage types. Each allowed global is a TypeScript stand-in that only builds records.
 * @returns a `resolveGlobal` for `readPickle` that throws UnsafePickleError (naming the global) for anything else.
 */
export function torchGlobalResolver(source: string): (module: string, name: string) => PickleGlobal {
  const rebuildTensor = (args: unknown[], what: string): TorchTensorRecord => {
    const [storage, storageOffset, shape, stride] = args;
    if (
      !isStorage(storage) ||
      !Number.isInteger(storageOffset) ||
      !integers(shape) ||
      !integers(stride) ||
      shape.length !== stride.length
    ) {
      throw new CheckpointError(
        source,
        `${what} got arguments that are not (storage, offset, size, stride): the pickle is malformed.`,
      );
    }
    return { kind: 'torch-tensor', storage, storageOffset: storageOffset as number, shape, stride };
  };
  const parameter = (args: unknown[]): unknown => args[0];
  const allowed: Record<string, (args: unknown[]) => unknown> = {
    'collections.OrderedDict': (args) => new Map(Array.isArray(args[0]) ? (args[0] as Array<[unknown, unknown]>) : []),
    'torch._utils._rebuild_tensor_v2': (args) => rebuildTensor(args, '_rebuild_tensor_v2'),
    'torch._utils._rebuild_tensor': (args) => rebuildTensor(args, '_rebuild_tensor'),
    'torch._utils._rebuild_parameter': parameter,
    'torch._utils._rebuild_parameter_with_state': parameter,
    // Protocol 2 pickles Python bytes as _codecs.encode(text, 'latin1'): decoded here, nothing called.
    '_codecs.encode': (args) => Uint8Array.from(String(args[0] ?? ''), (character) => character.charCodeAt(0) & 0xff),
  };
  const names = [...Object.keys(allowed), ...Object.keys(TORCH_STORAGE_DTYPES).map((type) => `torch.${type}`)];
  return (module, name) => {
    const qualified = `${module}.${name}`;
    const call = Object.hasOwn(allowed, qualified) ? allowed[qualified] : undefined;
    if (call) return { module, name, call };
    const dtype =
      module === 'torch' && Object.hasOwn(TORCH_STORAGE_DTYPES, name) ? TORCH_STORAGE_DTYPES[name] : undefined;
    if (dtype) return { module, name, dtype } satisfies TorchStorageType;
    if (module === 'torch' && name.endsWith('Storage')) {
      throw new CheckpointError(
        source,
        `storage type torch.${name} is not supported; supported: ${Object.keys(TORCH_STORAGE_DTYPES)
          .map((type) => `torch.${type}`)
          .join(', ')}. Convert the tensors to float32 in Python first.`,
      );
    }
    throw new UnsafePickleError(source, qualified, names.join(', '));
  };
}

/** The storage type named in a persistent id, or a CheckpointError. */
export function storageDtype(value: unknown, source: string): SafetensorsDtype {
  const dtype = (value as Partial<TorchStorageType> | null)?.dtype;
  if (typeof dtype !== 'string')
    throw new CheckpointError(source, 'a storage persistent id names no storage type: the pickle is malformed.');
  return dtype;
}
