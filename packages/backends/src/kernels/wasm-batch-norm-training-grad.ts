import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { batchNormTrainingGradArguments } from './fused-kernel-arguments';
import { inverseStandardDeviation, normEngineOf } from './wasm-batch-norm-training';

/**
 * `VkdBatchNormTrainingGrad` (see @vkd/core's fused-kernels) on the wasm backend: two passes over dy and x on the
 * backend's heap — the column sums Σdz and Σdz·(x − mean), then dx (and dz, the shortcut's gradient) — instead of
 * ~20 tfjs kernels.
 */
export function createWasmBatchNormTrainingGradKernel(kernelName: string): KernelFunc {
  return (args) => {
    const {
      dy,
      x,
      mean,
      variance,
      weight,
      y,
      epsilon,
      relu,
      shortcut,
      rows,
      channels: cols,
    } = batchNormTrainingGradArguments(kernelName, args);
    const engine = normEngineOf(args.backend, kernelName);
    const dx = engine.output([...x.shape]);
    const dWeight = engine.output([cols]);
    const dBias = engine.output([cols]);
    const dShortcut = shortcut ? engine.output([...x.shape]) : undefined;
    try {
      const sumDzX = engine.allocate(cols);
      const scale = engine.allocate(cols);
      const meanTerm = engine.allocate(cols);
      const centeredTerm = engine.allocate(cols);
      const [dyAt, xAt, yAt, meanAt, dBiasAt] = [dy, x, y, mean, dBias].map((t) => (t ? engine.pointer(t) : 0)) as [
        number,
        number,
        number,
        number,
        number,
      ];
      engine.columnSums(`gradSums${relu ? 1 : 0}`, [dyAt, xAt, yAt], [meanAt], rows, cols, [dBiasAt, sumDzX]);
      const [sumDz, sumDzCentered, weights, variances] = [
        dBiasAt,
        sumDzX,
        engine.pointer(weight),
        engine.pointer(variance),
      ].map((p) => engine.view(p, cols)) as [Float32Array, Float32Array, Float32Array, Float32Array];
      const [scales, meanTerms, centeredTerms, dWeights] = [scale, meanTerm, centeredTerm, engine.pointer(dWeight)].map(
        (p) => engine.view(p, cols),
      ) as [Float32Array, Float32Array, Float32Array, Float32Array];
      const f = Math.fround;
      for (let c = 0; c < cols; c++) {
        const invStd = inverseStandardDeviation(variances[c] as number, epsilon);
        const s = f((weights[c] as number) * invStd);
        scales[c] = s;
        meanTerms[c] = f(s * f((sumDz[c] as number) / rows));
        centeredTerms[c] = f(s * f((sumDzCentered[c] as number) * f(f(invStd * invStd) / rows)));
        dWeights[c] = f((sumDzCentered[c] as number) * invStd);
      }
      const storeDz = relu && dShortcut !== undefined;
      engine.call(
        `gradInput${(relu ? 1 : 0) + (storeDz ? 2 : 0)}`,
        dyAt,
        xAt,
        yAt,
        meanAt,
        scale,
        meanTerm,
        centeredTerm,
        engine.pointer(dx),
        storeDz ? engine.pointer(dShortcut as TensorInfo) : 0,
        rows,
        cols,
      );
      if (dShortcut !== undefined && !relu) {
        // No ReLU: the shortcut's gradient is dy itself (a copy, so the two may be disposed independently).
        const size = rows * cols;
        engine.heap().copyWithin(engine.pointer(dShortcut) / 4, dyAt / 4, dyAt / 4 + size);
      }
    } finally {
      engine.release();
    }
    return [dx, dWeight, dBias, ...(dShortcut ? [dShortcut] : [])];
  };
}
