import { describe, expect, it } from 'vitest';
import { WasmConvEngine, type ConvShape } from '../src/kernels/wasm-conv-engine';
import { randomValues, scaledDifference } from './conv-cases';

/** A convolution geometry from PyTorch-style arguments (pads may be asymmetric: bottom/right follow from out sizes). */
function geometry(
  n: number,
  h: number,
  w: number,
  ci: number,
  co: number,
  k: number,
  stride: number,
  pad: [number, number, number, number],
): ConvShape {
  const [top, bottom, left, right] = pad;
  return {
    batch: n,
    inHeight: h,
    inWidth: w,
    inChannels: ci,
    outChannels: co,
    filterHeight: k,
    filterWidth: k,
    strideHeight: stride,
    strideWidth: stride,
    padTop: top,
    padLeft: left,
    outHeight: Math.floor((h + top + bottom - k) / stride) + 1,
    outWidth: Math.floor((w + left + right - k) / stride) + 1,
  };
}

/** Naive definitions: out[n, y, x, o] = Σ x[n, y·s + kh − top, x·s + kw − left, i] · w[kh, kw, i, o]. */
function naive(s: ConvShape, x: Float32Array, w: Float32Array, dy: Float32Array) {
  const out = new Float64Array(s.batch * s.outHeight * s.outWidth * s.outChannels);
  const dx = new Float64Array(x.length);
  const dw = new Float64Array(w.length);
  for (let n = 0; n < s.batch; n++)
    for (let y = 0; y < s.outHeight; y++)
      for (let xo = 0; xo < s.outWidth; xo++) {
        const o0 = ((n * s.outHeight + y) * s.outWidth + xo) * s.outChannels;
        for (let kh = 0; kh < s.filterHeight; kh++)
          for (let kw = 0; kw < s.filterWidth; kw++) {
            const row = y * s.strideHeight + kh - s.padTop;
            const col = xo * s.strideWidth + kw - s.padLeft;
            if (row < 0 || row >= s.inHeight || col < 0 || col >= s.inWidth) continue;
            const i0 = ((n * s.inHeight + row) * s.inWidth + col) * s.inChannels;
            const w0 = (kh * s.filterWidth + kw) * s.inChannels * s.outChannels;
            for (let i = 0; i < s.inChannels; i++)
              for (let o = 0; o < s.outChannels; o++) {
                const wi = w0 + i * s.outChannels + o;
                out[o0 + o] = (out[o0 + o] as number) + (x[i0 + i] as number) * (w[wi] as number);
                dx[i0 + i] = (dx[i0 + i] as number) + (dy[o0 + o] as number) * (w[wi] as number);
                dw[wi] = (dw[wi] as number) + (x[i0 + i] as number) * (dy[o0 + o] as number);
              }
          }
      }
  return { out: Float32Array.from(out), dx: Float32Array.from(dx), dw: Float32Array.from(dw) };
}

const CASES: Array<[string, ConvShape]> = [
  ['stem 7×7/2 pad 3, 3 → 8 channels (threads split the taps)', geometry(2, 96, 72, 3, 8, 7, 2, [3, 3, 3, 3])],
  ['3×3/1 pad 1, 8 → 16', geometry(2, 9, 7, 8, 16, 3, 1, [1, 1, 1, 1])],
  ['3×3/2 pad 1, 16 → 8, odd sizes', geometry(3, 11, 9, 16, 8, 3, 2, [1, 1, 1, 1])],
  ['1×1/2 valid (phases without taps), 16 → 24', geometry(2, 9, 8, 16, 24, 1, 2, [0, 0, 0, 0])],
  ['1×1/1, 24 → 8, rows not a multiple of 4', geometry(1, 5, 3, 24, 8, 1, 1, [0, 0, 0, 0])],
  ['3×3/2 asymmetric pad (0, 1, 1, 0), 8 → 8', geometry(2, 10, 11, 8, 8, 3, 2, [0, 1, 1, 0])],
  ['3×3/3 valid, 8 → 16', geometry(2, 11, 10, 8, 16, 3, 3, [0, 0, 0, 0])],
  ['5×5/1 pad 2, deep (520 channels: several depth blocks) → 72', geometry(1, 4, 5, 520, 72, 5, 1, [2, 2, 2, 2])],
  ['1×1/1 pad larger than the kernel, 8 → 8', geometry(2, 6, 5, 8, 8, 1, 1, [2, 1, 1, 2])],
];

describe('WasmConvEngine (SIMD convolution kernels) vs naive loops', () => {
  const engines = [1, 3].map((threads) => [threads, WasmConvEngine.create(threads)] as const);

  it('exists on this runtime (Node ≥ 20 has WebAssembly SIMD)', () => {
    for (const [, engine] of engines) expect(engine).not.toBeNull();
    expect(engines[1]![1]!.threads).toBe(3);
  });

  it.each(CASES)('%s: forward, input and filter gradients within 1e-5; 1 and 3 threads bit-identical', (_name, s) => {
    const x = randomValues(s.batch * s.inHeight * s.inWidth * s.inChannels, 1);
    const w = randomValues(s.filterHeight * s.filterWidth * s.inChannels * s.outChannels, 2);
    const dy = randomValues(s.batch * s.outHeight * s.outWidth * s.outChannels, 3);
    const expected = naive(s, x, w, dy);
    const results = engines.map(([, engine]) => {
      const out = new Float32Array(expected.out.length).fill(Number.NaN);
      const dx = new Float32Array(x.length).fill(Number.NaN);
      const dw = new Float32Array(w.length).fill(Number.NaN);
      engine!.forward(s, x, w, out);
      if (s.inChannels % 8 === 0) engine!.inputGradient(s, dy, w, dx);
      engine!.filterGradient(s, x, dy, dw);
      return { out, dx, dw };
    });
    for (const result of results) {
      expect(scaledDifference(result.out, expected.out)).toBeLessThan(1e-5);
      if (s.inChannels % 8 === 0) expect(scaledDifference(result.dx, expected.dx)).toBeLessThan(1e-5);
      expect(scaledDifference(result.dw, expected.dw)).toBeLessThan(1e-5);
    }
    expect(results[1]).toEqual(results[0]);
  });

  it('gives the same results when called again (cached tables) and after other geometries', () => {
    const [, s] = CASES[2]!;
    const engine = engines[1]![1]!;
    const x = randomValues(s.batch * s.inHeight * s.inWidth * s.inChannels, 4);
    const w = randomValues(s.filterHeight * s.filterWidth * s.inChannels * s.outChannels, 5);
    const first = new Float32Array(s.batch * s.outHeight * s.outWidth * s.outChannels);
    const again = new Float32Array(first.length);
    engine.forward(s, x, w, first);
    const [, other] = CASES[7]!;
    engine.forward(
      other,
      randomValues(other.batch * other.inHeight * other.inWidth * other.inChannels, 6),
      randomValues(other.filterHeight * other.filterWidth * other.inChannels * other.outChannels, 7),
      new Float32Array(other.batch * other.outHeight * other.outWidth * other.outChannels),
    );
    engine.forward(s, x, w, again);
    expect(again).toEqual(first);
  });
});
