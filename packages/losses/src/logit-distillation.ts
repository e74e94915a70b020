import * as tf from '@tensorflow/tfjs-core';
import { stopGradient } from './stop-gradient';
import { checkMatrix, checkNumber, checkOptionKeys } from './validate';

/** Options of {@link logitDistillation}. */
export interface LogitDistillationOptions {
  /** Softmax temperature τ > 0. Default 10 (`--temp`). */
  temperature?: number;
}

/** The authors' distillation temperature τ (`--temp 10`). */
export const DEFAULT_TEMPERATURE = 10;

const OPTION_KEYS = ['temperature'] as const;

/** Validates {@link LogitDistillationOptions} and fills defaults. @throws InvalidOptionError */
export function validateLogitDistillationOptions(
  options: LogitDistillationOptions | undefined,
  where = 'logitDistillation.options',
): Required<LogitDistillationOptions> {
  checkOptionKeys(options, where, OPTION_KEYS);
  const temperature = checkNumber(options?.temperature ?? DEFAULT_TEMPERATURE, `${where}.temperature`, {
    min: 0,
    minExclusive: true,
  });
  return { temperature };
}

/** Unchecked core of {@link logitDistillation}; callers validate first. */
export function computeLogitDistillation(
  teacherLogits: tf.Tensor2D,
  studentLogits: tf.Tensor2D,
  temperature: number,
): tf.Scalar {
  return tf.tidy(() => {
    const teacherScaled = tf.div(stopGradient(teacherLogits), temperature);
    const teacherProbabilities = tf.softmax(teacherScaled);
    const teacherLogProbabilities = tf.logSoftmax(teacherScaled);
    const studentLogProbabilities = tf.logSoftmax(tf.div(studentLogits, temperature));
    // KLDivLoss(input = log p_S, target = p_T) = p_T·(log p_T − log p_S), summed over classes (kl.sum(1)).
    const perSample = tf.sum(tf.mul(teacherProbabilities, tf.sub(teacherLogProbabilities, studentLogProbabilities)), 1);
    return tf.mul(tf.mean(perSample), temperature * temperature) as tf.Scalar; // .mean() · τ²
  });
}

/**
 * Logit distillation (Hinton et al., 2015) as VKD computes it:
 * `L_KD = τ² · (1/B) Σ_i KL(p_T,i ‖ p_S,i)`, with `p_T = softmax(z_T/τ)`, `p_S = softmax(z_S/τ)` and
 * `KL(p ‖ q) = Σ_c p_c (log p_c − log q_c)`. The teacher is the target: no gradient flows into `teacherLogits`
 * (see {@link stopGradient}). The gradient w.r.t. the student logits is `τ·(p_S − p_T)/B`.
 *
 * Reference: VKD (Porrello et al., ECCV 2020) §3.2; `aimagelab/VKD: model/loss.py` `KDLoss` L57-75 with
 * `reduction='mean'` (`kl.sum(1).mean() · τ²`).
 * @param teacherLogits `[B, I]` float32, frame-averaged teacher logits (treated as constants).
 * @param studentLogits `[B, I]` float32, frame-averaged student logits.
 * @param options `temperature` τ > 0, default 10.
 * @returns scalar float32 loss (caller disposes).
 * @throws ShapeMismatchError when the two logits differ in shape; DtypeMismatchError; InvalidOptionError.
 */
export function logitDistillation(
  teacherLogits: tf.Tensor,
  studentLogits: tf.Tensor,
  options?: LogitDistillationOptions,
): tf.Scalar {
  const { temperature } = validateLogitDistillationOptions(options);
  const bindings = {};
  const teacher = checkMatrix(teacherLogits, 'logitDistillation.teacherLogits', 'I', bindings);
  const student = checkMatrix(studentLogits, 'logitDistillation.studentLogits', 'I', bindings);
  return computeLogitDistillation(teacher, student, temperature);
}
