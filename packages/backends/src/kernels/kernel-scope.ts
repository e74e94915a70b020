import { getKernel } from '@tensorflow/tfjs-core';
import type { KernelBackend, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';

/** Runs one of the backend's own kernels; its output is an intermediate freed when the scope ends. */
export type RunKernel = (kernelName: string, inputs: NamedTensorInfoMap, attrs?: object) => TensorInfo;

/** Marks a tensor made by hand (see {@link allocateFloat32}) as an intermediate of the scope. */
export type Track = (info: TensorInfo) => TensorInfo;

/**
 * Runs `body`, which composes a kernel out of the backend's own kernels (called directly, so nothing lands on the
 * gradient tape), then frees every intermediate except the returned one — also on error. Freeing goes through
 * `backend.disposeData`, which respects reference counts (a `Reshape` output shares its input's data) and, on wasm,
 * also drops the XNNPACK operators cached for a freed filter.
 * @param kernelBackend the backend the engine passed to the kernel (`KernelFunc` types it as `{}`).
 * @returns the result of `body` (owned by the caller, i.e. the engine).
 */
export function withKernelScope(
  kernelBackend: unknown,
  backendName: string,
  body: (run: RunKernel, track: Track, backend: KernelBackend) => TensorInfo,
): TensorInfo {
  const backend = kernelBackend as KernelBackend;
  const created: TensorInfo[] = [];
  const track: Track = (info) => {
    created.push(info);
    return info;
  };
  const run: RunKernel = (kernelName, inputs, attrs = {}) => {
    const kernel = getKernel(kernelName, backendName);
    if (kernel === undefined) {
      throw new Error(`@vkd/backends: kernel '${kernelName}' is not registered for backend '${backendName}'`);
    }
    return track(kernel.kernelFunc({ inputs, attrs: attrs as NamedAttrMap, backend }) as TensorInfo);
  };
  let result: TensorInfo | undefined;
  try {
    result = body(run, track, backend);
    return result;
  } finally {
    for (const info of created) if (info !== result) backend.disposeData(info.dataId);
  }
}

/** The parts of the wasm and cpu backend classes used to create outputs by hand (not in KernelBackend). */
interface OutputMaker {
  makeOutput?(shape: number[], dtype: string): TensorInfo;
  typedArrayFromHeap?(info: TensorInfo): Float32Array;
  makeTensorInfo?(shape: number[], dtype: string, values: Float32Array): TensorInfo;
}

/**
 * A new float32 tensor filled by `fill(out, read)`, where `read(info)` gives the values of an existing tensor.
 * On wasm the output lives on the heap and is allocated first: growing the heap detaches earlier views, so inputs
 * are read only after the allocation. `out` starts zeroed.
 */
export function allocateFloat32(
  backend: KernelBackend,
  shape: number[],
  fill: (out: Float32Array, read: (info: TensorInfo) => Float32Array) => void,
): TensorInfo {
  const maker = backend as unknown as OutputMaker;
  const read = (info: TensorInfo) => backend.readSync(info.dataId) as Float32Array;
  if (typeof maker.makeOutput === 'function' && typeof maker.typedArrayFromHeap === 'function') {
    const info = maker.makeOutput(shape, 'float32');
    const out = maker.typedArrayFromHeap(info);
    out.fill(0); // wasm heap memory is not zeroed
    fill(out, read);
    return info;
  }
  if (typeof maker.makeTensorInfo !== 'function')
    throw new Error('@vkd/backends: backend cannot create outputs on the CPU');
  const out = new Float32Array(shape.reduce((a, b) => a * b, 1));
  fill(out, read);
  return maker.makeTensorInfo(shape, 'float32', out);
}
