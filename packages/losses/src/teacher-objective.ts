import * as tf from '@tensorflow/tfjs-core';
import { computeBatchHardTriplet, validateBatchHardTripletOptions } from './batch-hard-triplet';
import type { TripletMargin } from './batch-hard-triplet';
import { computeCrossEntropy, validateCrossEntropyOptions } from './cross-entropy';
import type { ObjectiveResult, TeacherObjectiveTerms } from './objective-result';
import { checkLabels, checkMatrix, checkOptionKeys } from './validate';

/** Network outputs and identities of one teacher-stage batch. */
export interface TeacherObjectiveInputs {
  /** `[B, D]` float32 pre-BNNeck set embeddings (frame mean). */
  embeddings: tf.Tensor;
  /** `[B, I]` float32 logits (classifier(BNNeck(frame)) averaged over frames). */
  logits: tf.Tensor;
  /** `[B]` int32 training identities in `[0, I)`. */
  labels: tf.Tensor;
}

/** Options of {@link teacherObjective}; defaults are the authors'. */
export interface TeacherObjectiveOptions {
  /** Cross-entropy label smoothing in [0, 1); default 0. */
  labelSmoothing?: number;
  /** Triplet margin; default `'soft'`. */
  margin?: TripletMargin;
}

const OPTION_KEYS = ['labelSmoothing', 'margin'] as const;

/**
 * The teacher-stage objective of VKD: `L = L_CE(logits, y) + L_TR(embeddings, y)`, both weight 1.
 *
 * Reference: VKD (Porrello et al., ECCV 2020) §3; `aimagelab/VKD: tools/train_v2v.py` L71-72, L94-98.
 * @param inputs `{ embeddings [B, D], logits [B, I], labels [B] int32 }`.
 * @param options `labelSmoothing` (0), `margin` (`'soft'`).
 * @returns `{ total, terms: { crossEntropy, triplet } }`, all scalars owned by the caller (terms unweighted).
 *   Inside `tf.variableGrads(() => …)` only the returned tensor survives: `tf.keep` the terms you log.
 * @throws ShapeMismatchError (where = `teacherObjective.logits`, …), DtypeMismatchError, InvalidOptionError.
 */
export function teacherObjective(
  inputs: TeacherObjectiveInputs,
  options?: TeacherObjectiveOptions,
): ObjectiveResult<TeacherObjectiveTerms> {
  const where = 'teacherObjective';
  checkOptionKeys(options, `${where}.options`, OPTION_KEYS);
  const { labelSmoothing } = validateCrossEntropyOptions(
    { labelSmoothing: options?.labelSmoothing },
    `${where}.options`,
  );
  const { margin } = validateBatchHardTripletOptions({ margin: options?.margin }, `${where}.options`);
  const bindings = {};
  const embeddings = checkMatrix(inputs?.embeddings, `${where}.embeddings`, 'D', bindings);
  const logits = checkMatrix(inputs?.logits, `${where}.logits`, 'I', bindings);
  const labels = checkLabels(inputs?.labels, `${where}.labels`, bindings);
  return tf.tidy(() => {
    const crossEntropy = computeCrossEntropy(logits, labels, labelSmoothing);
    const triplet = computeBatchHardTriplet(embeddings, labels, margin);
    return { total: tf.add(crossEntropy, triplet) as tf.Scalar, terms: { crossEntropy, triplet } };
  });
}
