import * as tf from '@tensorflow/tfjs-core';
import { expectNoLeak, maxRelativeDifference, useBackend } from '@vkd/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerFastKernels } from '../src/index';
import { randomValues } from './conv-cases';

type Reduction = { name: string; shape: number[]; axis: number | number[]; keepDims: boolean; op: 'sum' | 'mean' };

// Leading axes (the fast path: BatchNorm statistics), negative axes, keepDims, and reductions that fall back.
const REDUCTIONS: readonly Reduction[] = [
  { name: 'mean over rows [300, 7]', shape: [300, 7], axis: 0, keepDims: false, op: 'mean' },
  { name: 'sum over N,H,W of [2, 5, 4, 3]', shape: [2, 5, 4, 3], axis: [2, 0, 1], keepDims: false, op: 'sum' },
  { name: 'mean over N,H,W keepDims', shape: [2, 5, 4, 3], axis: [0, 1, 2], keepDims: true, op: 'mean' },
  { name: 'sum axis -2 of [9, 6] (= axis 0)', shape: [9, 6], axis: -2, keepDims: true, op: 'sum' },
  { name: 'sum over the last axis (fallback)', shape: [4, 6], axis: 1, keepDims: false, op: 'sum' },
  { name: 'mean over all axes (fallback)', shape: [4, 6], axis: [0, 1], keepDims: false, op: 'mean' },
  { name: 'sum over a middle axis (fallback)', shape: [3, 4, 5], axis: 1, keepDims: false, op: 'sum' },
  {
    name: 'mean over rows of [5000, 300] (threads split the columns)',
    shape: [5000, 300],
    axis: 0,
    keepDims: false,
    op: 'mean',
  },
  {
    name: 'sum over rows of [70, 36] (wide and narrow column tiles)',
    shape: [70, 36],
    axis: 0,
    keepDims: false,
    op: 'sum',
  },
];

async function reduce(r: Reduction): Promise<{ values: Float32Array; shape: number[] }> {
  const x = tf.tensor(randomValues(tf.util.sizeFromShape(r.shape), 5), r.shape);
  const y = r.op === 'sum' ? tf.sum(x, r.axis, r.keepDims) : tf.mean(x, r.axis, r.keepDims);
  const values = (await y.data()) as Float32Array;
  tf.dispose([x, y]);
  return { values, shape: y.shape };
}

describe('wasm Sum/Mean over leading axes (as a matrix product)', () => {
  const expected = new Map<string, { values: Float32Array; shape: number[] }>();

  beforeAll(async () => {
    await useBackend('cpu');
    for (const r of REDUCTIONS) expected.set(r.name, await reduce(r));
    await useBackend('wasm');
    registerFastKernels('wasm');
  });

  it.each(REDUCTIONS.map((r) => [r.name, r] as const))('%s matches the cpu kernel, leak-free', async (_name, r) => {
    const before = tf.memory().numDataBuffers;
    const actual = await expectNoLeak(() => reduce(r));
    expect(tf.memory().numDataBuffers).toBe(before);
    const reference = expected.get(r.name)!;
    expect(actual.shape).toEqual(reference.shape);
    expect(maxRelativeDifference(actual.values, reference.values, 1e-3)).toBeLessThan(1e-5);
  });

  it('keeps int32 reductions on the original kernel', async () => {
    const x = tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2], 'int32');
    const y = tf.sum(x, 0);
    expect(y.dtype).toBe('int32');
    expect(Array.from(await y.data())).toEqual([9, 12]);
    tf.dispose([x, y]);
  });
});

type Product = { name: string; a: number[]; b: number[]; transposeB?: boolean };

// One row times one matrix (the SIMD path: BatchNorm's column sums) and products that fall back to XNNPACK.
const PRODUCTS: readonly Product[] = [
  { name: '[1, 300] · [300, 64]', a: [1, 300], b: [300, 64] },
  { name: '[1, 1, 4000] · [1, 4000, 260] (batch dims, tail tile, threads)', a: [1, 1, 4000], b: [1, 4000, 260] },
  { name: '[1, 9] · [9, 6] (N not a multiple of 4: fallback)', a: [1, 9], b: [9, 6] },
  { name: '[3, 9] · [9, 8] (several rows: fallback)', a: [3, 9], b: [9, 8] },
  { name: '[1, 9] · [8, 9]ᵀ (transposed: fallback)', a: [1, 9], b: [8, 9], transposeB: true },
];

async function product(p: Product): Promise<{ values: Float32Array; shape: number[] }> {
  const a = tf.tensor(randomValues(tf.util.sizeFromShape(p.a), 6), p.a);
  const b = tf.tensor(randomValues(tf.util.sizeFromShape(p.b), 7), p.b);
  const y = tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D, false, p.transposeB ?? false);
  const values = (await y.data()) as Float32Array;
  tf.dispose([a, b, y]);
  return { values, shape: y.shape };
}

describe('wasm BatchMatMul of one row by one matrix', () => {
  const expected = new Map<string, { values: Float32Array; shape: number[] }>();

  beforeAll(async () => {
    await useBackend('cpu');
    for (const p of PRODUCTS) expected.set(p.name, await product(p));
    await useBackend('wasm');
    registerFastKernels('wasm');
  });

  it.each(PRODUCTS.map((p) => [p.name, p] as const))('%s matches the cpu kernel, leak-free', async (_name, p) => {
    const actual = await expectNoLeak(() => product(p));
    const reference = expected.get(p.name)!;
    expect(actual.shape).toEqual(reference.shape);
    expect(maxRelativeDifference(actual.values, reference.values, 1e-3)).toBeLessThan(1e-5);
  });
});
