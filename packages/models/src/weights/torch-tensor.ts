import { CheckpointError } from '@vkd/core';
import { dtypeItemSize, type SafetensorsDtype, type SafetensorsEntry } from './safetensors';

/** Largest tensor copied out of a storage (the 2 GiB limit of one typed array). */
const MAX_TENSOR_BYTES = 2 ** 31 - 1;

/** A storage named by a pickle's persistent id; its bytes are looked up by `key` once the pickle is read. */
export interface TorchStorageReference {
  readonly kind: 'torch-storage';
  key: string;
  dtype: SafetensorsDtype;
  /** Elements of the storage the key names. */
  numel: number;
  /** Legacy storage views only: first element and element count of the view within the keyed storage. */
  view?: { offset: number; numel: number };
}

/** A tensor as `torch._utils._rebuild_tensor_v2` describes it: a storage, an element offset, a size and a stride. */
export interface TorchTensorRecord {
  readonly kind: 'torch-tensor';
  storage: TorchStorageReference;
  storageOffset: number;
  shape: number[];
  stride: number[];
}

export function isTorchTensorRecord(value: unknown): value is TorchTensorRecord {
  return value !== null && typeof value === 'object' && (value as { kind?: unknown }).kind === 'torch-tensor';
}

/**
 * Copies a tensor's elements out of its storage into a contiguous row-major entry (a view when the tensor already
 * is contiguous); handles shared storages, offsets and any stride.
 * @param storageBytes the raw little-endian bytes of `record.storage.key`.
 * @param name the state_dict key, for error messages.
 * @throws CheckpointError naming `source` and `name` when the tensor reaches past its storage.
 */
export function materialiseTensor(
  record: TorchTensorRecord,
  storageBytes: Uint8Array,
  name: string,
  source: string,
): SafetensorsEntry {
  const { storage, shape, stride } = record;
  const itemSize = dtypeItemSize(storage.dtype);
  const viewOffset = storage.view?.offset ?? 0;
  const available = storage.view?.numel ?? storage.numel;
  if (storageBytes.length < (viewOffset + available) * itemSize) {
    throw new CheckpointError(
      source,
      `storage "${storage.key}" of "${name}" has ${storageBytes.length} bytes but needs ${(viewOffset + available) * itemSize} (truncated file?).`,
    );
  }
  const count = shape.reduce((product, dim) => product * dim, 1);
  let last = record.storageOffset;
  for (let axis = 0; axis < shape.length; axis++) last += ((shape[axis] as number) - 1) * (stride[axis] as number);
  if (count > 0 && (record.storageOffset < 0 || last >= available || stride.some((step) => step < 0))) {
    throw new CheckpointError(
      source,
      `tensor "${name}" (offset ${record.storageOffset}, size [${shape.join(', ')}], stride [${stride.join(', ')}]) reaches past its storage of ${available} elements.`,
    );
  }
  if (count * itemSize > MAX_TENSOR_BYTES) {
    throw new CheckpointError(
      source,
      `tensor "${name}" (size [${shape.join(', ')}]) would take ${count * itemSize} bytes, more than the ${MAX_TENSOR_BYTES} a typed array can hold (corrupt file?).`,
    );
  }
  const base = (viewOffset + record.storageOffset) * itemSize;
  let contiguous = true;
  for (let axis = shape.length - 1, expected = 1; axis >= 0; axis--) {
    if ((shape[axis] as number) !== 1 && stride[axis] !== expected) contiguous = false;
    expected *= shape[axis] as number;
  }
  if (contiguous)
    return { dtype: storage.dtype, shape: [...shape], data: storageBytes.subarray(base, base + count * itemSize) };
  const data = new Uint8Array(count * itemSize);
  const index = new Array<number>(shape.length).fill(0);
  for (let element = 0; element < count; element++) {
    let offset = 0;
    for (let axis = 0; axis < shape.length; axis++) offset += (index[axis] as number) * (stride[axis] as number);
    const from = base + offset * itemSize;
    data.set(storageBytes.subarray(from, from + itemSize), element * itemSize);
    for (let axis = shape.length - 1; axis >= 0; axis--) {
      index[axis] = (index[axis] as number) + 1;
      if ((index[axis] as number) < (shape[axis] as number)) break;
      index[axis] = 0;
    }
  }
  return { dtype: storage.dtype, shape: [...shape], data };
}

/** What a `torch.save` file holds: the unpickled object (tensors as records) and the bytes of each storage. */
export interface TorchFileContents {
  object: unknown;
  storageBytes(key: string): Uint8Array;
}

/** A storage persistent id's common fields, checked: `('storage', type, key, location, numel, …)`. */
export function storageIdFields(
  id: unknown,
  source: string,
): { type: unknown; key: string; numel: number; rest: unknown[] } {
  if (!Array.isArray(id) || id[0] !== 'storage' || id.length < 5 || !Number.isInteger(id[4])) {
    throw new CheckpointError(
      source,
      `persistent id ${JSON.stringify(String(id))} is not a torch storage: the pickle is malformed.`,
    );
  }
  return { type: id[1], key: String(id[2]), numel: id[4] as number, rest: id.slice(5) };
}
