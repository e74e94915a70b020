import { util } from '@tensorflow/tfjs-core';
import type { KernelFunc, TensorInfo, UnsortedSegmentSumAttrs } from '@tensorflow/tfjs-core';
import { withKernelScope } from './kernel-scope';

/**
 * Creates an `UnsortedSegmentSum` kernel (the gradient of `tf.gather`) for `backendName` as one matrix product:
 * out `[S, ...rest]` = oneHot(segmentIds, S)ᵀ `[S, M]` · x `[M, R]`, where `segmentIds` has M elements and matches
 * the leading dimensions of x. Ids outside `[0, S)` contribute nothing, as in TensorFlow.
 */
export function createUnsortedSegmentSumKernel(backendName: string): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { x, segmentIds } = inputs as { x: TensorInfo; segmentIds: TensorInfo };
    const { numSegments } = attrs as unknown as UnsortedSegmentSumAttrs;
    const count = util.sizeFromShape(segmentIds.shape);
    const rest = x.shape.slice(segmentIds.shape.length);
    const rowSize = util.sizeFromShape(rest);
    return withKernelScope(backend, backendName, (run) => {
      const ids = segmentIds.dtype === 'int32' ? segmentIds : run('Cast', { x: segmentIds }, { dtype: 'int32' });
      const flatIds = run('Reshape', { x: ids }, { shape: [count] });
      // wasm's OneHot always writes int32 values whatever its dtype attribute says: ask for int32, then cast.
      const oneHot = run(
        'OneHot',
        { indices: flatIds },
        { depth: numSegments, onValue: 1, offValue: 0, dtype: 'int32' },
      );
      const a = run(
        'Reshape',
        { x: run('Cast', { x: oneHot }, { dtype: 'float32' }) },
        { shape: [1, count, numSegments] },
      );
      const values = x.dtype === 'float32' ? x : run('Cast', { x }, { dtype: 'float32' });
      const b = run('Reshape', { x: values }, { shape: [1, count, rowSize] });
      const summed = run('BatchMatMul', { a, b }, { transposeA: true, transposeB: false });
      const shaped = run('Reshape', { x: summed }, { shape: [numSegments, ...rest] });
      return x.dtype === 'float32' ? shaped : run('Cast', { x: shaped }, { dtype: x.dtype });
    });
  };
}
