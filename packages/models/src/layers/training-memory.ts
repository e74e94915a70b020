/**
 * Benchmark switch: `true` restores the training ops as they were before progressive freeing: one custom op per conv +
 * BatchNorm unit, every saved tensor and every intermediate gradient alive until the backward pass ends, so
 * that `tools/bench/train/step-memory.ts` measures the old and the new memory in one process. Not for training.
 */
let legacy = false;

/** Turns that old training-memory behaviour on or off (benchmarks and parity tests only). */
export function setLegacyTrainingMemory(enabled: boolean): void {
  legacy = enabled;
}

/** Whether {@link setLegacyTrainingMemory} is on. */
export function legacyTrainingMemory(): boolean {
  return legacy;
}

let recomputeConvolutions = false;

/**
 * Benchmark switch: `true` makes the residual-block ops keep no conv outputs and recompute each in the backward pass
 * from the saved conv input and filter (one more convolution per unit, less memory per frame), to measure that trade
 * against `recompute` (per stage) in `tools/bench/train/step-memory.ts`. Not for training.
 */
export function setRecomputeConvolutions(enabled: boolean): void {
  recomputeConvolutions = enabled;
}

/** Whether {@link setRecomputeConvolutions} is on. */
export function recomputingConvolutions(): boolean {
  return recomputeConvolutions;
}
