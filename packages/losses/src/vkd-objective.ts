import * as tf from '@tensorflow/tfjs-core';
import { InvalidOptionError } from '@vkd/core';
import { computeBatchHardTriplet, validateBatchHardTripletOptions } from './batch-hard-triplet';
import type { TripletMargin } from './batch-hard-triplet';
import { computeCrossEntropy, validateCrossEntropyOptions } from './cross-entropy';
import { computeDistancePreserving } from './distance-preserving';
import { computeLogitDistillation, DEFAULT_TEMPERATURE, validateLogitDistillationOptions } from './logit-distillation';
import { computeLogitMatching } from './logit-matching';
import type { ObjectiveResult, VkdObjectiveTerms } from './objective-result';
import { checkLabels, checkMatrix, checkNumber, checkOptionKeys } from './validate';

/** Outputs of one network on the batch. */
export interface NetworkOutputs {
  /** `[B, D]` float32 pre-BNNeck set embeddings (teacher and student may differ in D). */
  embeddings: tf.Tensor;
  /** `[B, I]` float32 frame-averaged logits (same I for both networks). */
  logits: tf.Tensor;
}

/** Inputs of {@link vkdObjective}: the frozen teacher on N views, the student on M views, the identities. */
export interface VkdObjectiveInputs {
  teacher: NetworkOutputs;
  student: NetworkOutputs;
  /** `[B]` int32 training identities in `[0, I)`. */
  labels: tf.Tensor;
}

/**
 * The authors' VKD weights (`tools/train_distill.py`, `commands.txt`): α = λ_KD = 0.1 (`--kl_coeff`),
 * β = λ_DP = 1e-4 (`--lambda_coeff`), τ = 10 (`--temp`). The one place these numbers are written; the trainer's
 * `DISTILL_DEFAULTS` and the `vkd` CLI read them from here.
 */
export const VKD_WEIGHT_DEFAULTS = Object.freeze({ kdWeight: 0.1, dpWeight: 1e-4, temperature: DEFAULT_TEMPERATURE });

/** Weights and options of {@link vkdObjective}; defaults are {@link VKD_WEIGHT_DEFAULTS}. */
export interface VkdObjectiveOptions {
  /** α = λ_KD, weight of the distillation term (`--kl_coeff`); default 0.1. */
  kdWeight?: number;
  /** β = λ_DP, weight of the distance-preserving term (`--lambda_coeff`); default 1e-4. */
  dpWeight?: number;
  /** KD temperature τ (`--temp`); default 10. Ignored by `logitsDistance: 'mse'`. */
  temperature?: number;
  /** `'kl'` (default): τ²·KL; `'mse'`: logit MSE (`--logits_dist mse`), still weighted by `kdWeight`. */
  logitsDistance?: 'kl' | 'mse';
  /** Cross-entropy label smoothing in [0, 1); default 0. */
  labelSmoothing?: number;
  /** Triplet margin; default `'soft'`. */
  margin?: TripletMargin;
}

const OPTION_KEYS = ['kdWeight', 'dpWeight', 'temperature', 'logitsDistance', 'labelSmoothing', 'margin'] as const;

interface ResolvedVkdOptions {
  kdWeight: number;
  dpWeight: number;
  temperature: number;
  logitsDistance: 'kl' | 'mse';
  labelSmoothing: number;
  margin: TripletMargin;
}

/** Validates {@link VkdObjectiveOptions} and fills the authors' defaults. @throws InvalidOptionError */
export function validateVkdObjectiveOptions(
  options: VkdObjectiveOptions | undefined,
  where = 'vkdObjective.weights',
): ResolvedVkdOptions {
  checkOptionKeys(options, where, OPTION_KEYS);
  const logitsDistance = options?.logitsDistance ?? 'kl';
  if (logitsDistance !== 'kl' && logitsDistance !== 'mse') {
    throw new InvalidOptionError(`${where}.logitsDistance`, logitsDistance, "Expected 'kl' or 'mse'.");
  }
  return {
    kdWeight: checkNumber(options?.kdWeight ?? VKD_WEIGHT_DEFAULTS.kdWeight, `${where}.kdWeight`, { min: 0 }),
    dpWeight: checkNumber(options?.dpWeight ?? VKD_WEIGHT_DEFAULTS.dpWeight, `${where}.dpWeight`, { min: 0 }),
    temperature: validateLogitDistillationOptions({ temperature: options?.temperature }, where).temperature,
    logitsDistance,
    labelSmoothing: validateCrossEntropyOptions({ labelSmoothing: options?.labelSmoothing }, where).labelSmoothing,
    margin: validateBatchHardTripletOptions({ margin: options?.margin }, where).margin,
  };
}

/**
 * The student objective of VKD:
 * `L = L_TR(e_S, y) + L_CE(z_S, y) + λ_DP · L_DP(e_T, e_S) + λ_KD · L_KD(z_T, z_S)`, with λ_KD = 0.1, λ_DP = 1e-4,
 * τ = 10 (so the batch-mean KL is effectively weighted 0.1·τ² = 10). Nothing flows back into the teacher's tensors.
 *
 * Reference: VKD (Porrello et al., ECCV 2020) §3.2; `aimagelab/VKD: tools/train_distill.py` L86-90, L146-153.
 * @param inputs `{ teacher: { embeddings [B, D_T], logits [B, I] }, student: { embeddings [B, D_S], logits [B, I] },
 *   labels [B] int32 }`.
 * @param weights `kdWeight`, `dpWeight`, `temperature`, and `logitsDistance`, `labelSmoothing`, `margin`.
 * @returns `{ total, terms: { crossEntropy, triplet, logitDistillation, distancePreserving } }`: scalars owned by
 *   the caller; terms are unweighted, total is weighted. Inside `tf.variableGrads(() => …)` only the returned
 *   tensor survives: `tf.keep` the terms you log.
 * @throws ShapeMismatchError (where = `vkdObjective.student.logits`, …), DtypeMismatchError, InvalidOptionError.
 */
export function vkdObjective(
  inputs: VkdObjectiveInputs,
  weights?: VkdObjectiveOptions,
): ObjectiveResult<VkdObjectiveTerms> {
  const where = 'vkdObjective';
  const options = validateVkdObjectiveOptions(weights);
  const bindings = {};
  const studentEmbeddings = checkMatrix(inputs?.student?.embeddings, `${where}.student.embeddings`, 'D_S', bindings);
  const studentLogits = checkMatrix(inputs?.student?.logits, `${where}.student.logits`, 'I', bindings);
  const teacherEmbeddings = checkMatrix(inputs?.teacher?.embeddings, `${where}.teacher.embeddings`, 'D_T', bindings);
  const teacherLogits = checkMatrix(inputs?.teacher?.logits, `${where}.teacher.logits`, 'I', bindings);
  const labels = checkLabels(inputs?.labels, `${where}.labels`, bindings);
  return tf.tidy(() => {
    const crossEntropy = computeCrossEntropy(studentLogits, labels, options.labelSmoothing);
    const triplet = computeBatchHardTriplet(studentEmbeddings, labels, options.margin);
    const logitDistillation =
      options.logitsDistance === 'kl'
        ? computeLogitDistillation(teacherLogits, studentLogits, options.temperature)
        : computeLogitMatching(teacherLogits, studentLogits);
    const distancePreserving = computeDistancePreserving(teacherEmbeddings, studentEmbeddings);
    const total = tf.addN([
      triplet,
      crossEntropy,
      tf.mul(distancePreserving, options.dpWeight),
      tf.mul(logitDistillation, options.kdWeight),
    ]) as tf.Scalar;
    return { total, terms: { crossEntropy, triplet, logitDistillation, distancePreserving } };
  });
}
