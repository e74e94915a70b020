import { useBackend } from '@vkd/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { registerFastKernels, unregisterFastKernels } from '../src/index';
import { CONV_COLUMNS } from '../src/kernels/wasm-conv-kernel';
import { WasmConvEngine } from '../src/kernels/wasm-conv-engine';
import { CONV_CASES, expectGradientsMatch, referenceGradients, type ConvCase, type ConvResults } from './conv-cases';

let reference: Map<string, ConvResults>;

beforeAll(async () => {
  await useBackend('cpu');
  unregisterFastKernels('cpu');
  reference = await referenceGradients();
});

// Spies on the SIMD engine (the real methods still run): which kernels reached it, per case.
const forward = vi.spyOn(WasmConvEngine.prototype, 'forward');
const inputGradient = vi.spyOn(WasmConvEngine.prototype, 'inputGradient');
const filterGradient = vi.spyOn(WasmConvEngine.prototype, 'filterGradient');
afterAll(() => vi.restoreAllMocks());

/**
 * Calls the SIMD engine must receive for a case on wasm (the kernels' documented rule): forward (`Conv2D` and the
 * bias-free `FusedConv2D`) and dW when Co is a multiple of 8, dx when Ci is. Everything else goes to the fallback.
 */
function expectedEngineCalls(c: ConvCase) {
  const takesOutput = c.outChannels % CONV_COLUMNS === 0;
  const takesInput = c.xShape[3] % CONV_COLUMNS === 0;
  return { forward: takesOutput ? 2 : 0, filterGradient: takesOutput ? 1 : 0, inputGradient: takesInput ? 1 : 0 };
}

const engineCalls = () => ({
  forward: forward.mock.calls.length,
  filterGradient: filterGradient.mock.calls.length,
  inputGradient: inputGradient.mock.calls.length,
});

describe.each(['wasm', 'cpu'] as const)('fast conv gradients on %s vs the cpu reference kernels', (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
    registerFastKernels(backend);
  });

  it.each(CONV_CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    vi.clearAllMocks();
    await expectGradientsMatch(c, reference.get(c.name)!);
    // On cpu nothing runs on the WebAssembly engine; on wasm the SIMD cases must take it (needs WebAssembly SIMD,
    // which every Node >= 16.4 has).
    expect(engineCalls()).toEqual(
      backend === 'wasm' ? expectedEngineCalls(c) : { forward: 0, filterGradient: 0, inputGradient: 0 },
    );
  });

  it('has cases on both paths (SIMD engine and fallback) for every kernel', () => {
    const counts = CONV_CASES.map(expectedEngineCalls);
    for (const kernel of ['forward', 'filterGradient', 'inputGradient'] as const) {
      expect(counts.filter((count) => count[kernel] > 0).length).toBeGreaterThanOrEqual(3);
      expect(counts.filter((count) => count[kernel] === 0).length).toBeGreaterThanOrEqual(3);
    }
  });
});
