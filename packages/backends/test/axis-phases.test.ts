import { describe, expect, it } from 'vitest';
import { axisPhases } from '../src/kernels/conv2d-backprop-input';

describe('axisPhases (sub-pixel decomposition of a strided transposed convolution)', () => {
  it('splits a 3-tap, stride-2, pad-1 axis of size 5 as derived by hand', () => {
    // Forward: y[o] = Σ_k x[2o + k − 1]·w[k], o = 0..2. Hence dx[2q] = dy[q]·w[1] and dx[2q+1] = dy[q+1]·w[0] + dy[q]·w[2].
    expect(axisPhases(5, 3, 2, 1, 3)).toEqual([
      { offset: 0, length: 3, first: 1, taps: 1, before: 0, after: 0 },
      { offset: 1, length: 2, first: 0, taps: 2, before: 0, after: 0 },
    ]);
  });

  it('gives phases without taps for a 1×1 stride-2 kernel and crops trailing dy for stride 1', () => {
    // 1×1, stride 2, no padding, size 4 → dy has 2 pixels feeding dx[0] and dx[2]; odd positions get nothing.
    expect(axisPhases(4, 1, 2, 0, 2)).toEqual([
      { offset: 0, length: 2, first: 0, taps: 1, before: 0, after: 0 },
      { offset: 1, length: 2, first: 1, taps: 0, before: -1, after: 0 },
    ]);
    // Stride 1 is a single phase: the plain "full" correlation with the rotated filter, padded by k − 1 − pad.
    expect(axisPhases(6, 3, 1, 1, 6)).toEqual([{ offset: 0, length: 6, first: 0, taps: 3, before: 1, after: 1 }]);
  });
});
