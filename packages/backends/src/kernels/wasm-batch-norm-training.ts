import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { batchNormTrainingArguments } from './fused-kernel-arguments';
import { WasmNormEngine } from './wasm-norm-engine';

/** The engine of a wasm backend, or a typed error naming what is missing. */
export function normEngineOf(backend: unknown, kernelName: string): WasmNormEngine {
  const engine = WasmNormEngine.of(backend);
  if (engine === null) {
    throw new Error(
      `@vkd/backends: ${kernelName} needs WebAssembly SIMD on the wasm backend; call unregisterFastKernels() to use the composed ops`,
    );
  }
  return engine;
}

/** [C] statistics as tfjs computes them from float32 values: √ and division rounded to float32. */
export function inverseStandardDeviation(variance: number, epsilon: number): number {
  return Math.fround(1 / Math.fround(Math.sqrt(Math.fround(variance + epsilon))));
}

/**
 * `VkdBatchNormTraining` (see @vkd/core's fused-kernels) on the wasm backend: three passes over x on the backend's
 * heap — column sums (mean), column sums of squared deviations (biased variance, two-pass as PyTorch), then
 * normalise + bias (+ shortcut) (+ ReLU) into the output — instead of ~10 tfjs kernels.
 */
export function createWasmBatchNormTrainingKernel(kernelName: string): KernelFunc {
  return (args) => {
    const { x, weight, bias, shortcut, moving, epsilon, relu, rows, channels: cols } = batchNormTrainingArguments(args);
    const engine = normEngineOf(args.backend, kernelName);
    const y = engine.output([...x.shape]);
    const mean = engine.output([cols]);
    const variance = engine.output([cols]);
    const movingOutputs = moving ? [engine.output([cols]), engine.output([cols])] : [];
    const [meanAt, varianceAt] = [engine.pointer(mean), engine.pointer(variance)];
    try {
      const scale = engine.allocate(cols);
      const xAt = engine.pointer(x);
      // Σ (1/M)·x and Σ (1/M)·(x − mean)²: the composed ops' products of x with a row of 1/M.
      engine.columnSums('colSum', [xAt], [], rows, cols, [meanAt], [1 / rows]);
      engine.columnSums('colSquaredDeviation', [xAt], [meanAt], rows, cols, [varianceAt], [1 / rows]);
      const varianceValues = engine.view(varianceAt, cols);
      const weights = engine.view(engine.pointer(weight), cols);
      const scales = engine.view(scale, cols);
      for (let c = 0; c < cols; c++) {
        scales[c] = (weights[c] as number) * inverseStandardDeviation(varianceValues[c] as number, epsilon);
      }
      const variant = (relu ? 1 : 0) + (shortcut ? 2 : 0);
      engine.call(
        `normalize${variant}`,
        xAt,
        meanAt,
        scale,
        engine.pointer(bias),
        shortcut ? engine.pointer(shortcut) : 0,
        engine.pointer(y),
        rows,
        cols,
      );
      if (moving) {
        const f = Math.fround;
        const [meanValues, runningMeans, runningVars, newMeans, newVars] = [
          meanAt,
          ...[moving.runningMean, moving.runningVar, ...movingOutputs].map((t) => engine.pointer(t as TensorInfo)),
        ].map((p) => engine.view(p, cols)) as Float32Array[];
        for (let c = 0; c < cols; c++) {
          const batchVariance = moving.unbiased === 1 ? varianceValues[c]! : f(varianceValues[c]! * moving.unbiased);
          newMeans![c] = f(runningMeans![c]! * moving.keep) + f(meanValues![c]! * moving.take);
          newVars![c] = f(runningVars![c]! * moving.keep) + f(batchVariance * moving.take);
        }
      }
    } finally {
      engine.release();
    }
    return [y, mean, variance, ...movingOutputs];
  };
}
