import * as tf from '@tensorflow/tfjs-core';
import { createRandom, InvalidOptionError, type Random } from '@vkd/core';
import { vkdObjective, type VkdObjectiveOptions } from '@vkd/losses';
import type { ReidModel } from '@vkd/models';
import type { AdamWithL2 } from './adam-with-l2';
import { batchTensors, type BatchArrays } from './batch';
import { minimizeObjective, nonTrainableVariables } from './minimize-objective';
import type { TrainingStep } from './training-step';
import { AUTHORS_SEED } from './stage-defaults';

/** Options of {@link distillStep}; defaults are the authors' (`tools/train_distill.py`). */
export interface DistillStepOptions {
  /** The frozen teacher: never updated, run with batch-statistics BN and no gradient. */
  teacher: ReidModel;
  /** The student being trained (see `createStudent`). */
  student: ReidModel;
  optimizer: AdamWithL2;
  /** M views given to the student out of the N of the batch (default 2). */
  studentFrames?: number;
  /** Seed of the generator picking each tracklet's M-of-N subset (default `AUTHORS_SEED`, 1897). */
  seed?: number;
  /** `kdWeight` (α), `dpWeight` (β), `temperature` (τ), … passed to `vkdObjective` (defaults `VKD_WEIGHT_DEFAULTS`). */
  weights?: VkdObjectiveOptions;
  /** Activation recomputation in the student's training pass (default false; see `TeacherStepOptions.recompute`). */
  recompute?: boolean;
}

/**
 * The VKD step (`vkd-method.md` §4.2–4.5). The teacher sees all N views of every tracklet with batch-statistics BN
 * (its moving statistics untouched, outside the gradient tape); the student sees a random M-subset of the SAME
 * augmented frames (an independent permutation per tracklet); the student minimises
 * `L_CE + L_triplet + α·L_KD + β·L_DP`.
 * @returns a `TrainingStep`; its state is the subset generator's state (saved in checkpoints). `images` = B·N.
 * @throws InvalidOptionError for a bad `studentFrames`; from `run`: InvalidOptionError when M > N,
 *   ShapeMismatchError for a malformed batch, NonFiniteValueError for a NaN/Inf loss (update not applied).
 */
export function distillStep(options: DistillStepOptions): TrainingStep<BatchArrays> {
  const { teacher, student, optimizer, weights, recompute = false } = options;
  const studentFrames = options.studentFrames ?? 2;
  if (!(Number.isInteger(studentFrames) && studentFrames >= 1)) {
    throw new InvalidOptionError('distillStep.studentFrames', studentFrames, 'Use an integer >= 1 (VKD: 2).');
  }
  if (teacher === student) {
    throw new InvalidOptionError(
      'distillStep.student',
      'the teacher',
      'The student must be a separate model: use createStudent(teacher).',
    );
  }
  let random: Random = createRandom(options.seed ?? AUTHORS_SEED);
  return {
    kind: 'distill',
    model: student,
    optimizer,
    async run(batch) {
      const { frames, labels } = batchTensors(batch, 'distillStep.batch');
      const [b, n] = frames.shape;
      if (studentFrames > n) {
        tf.dispose([frames, labels]);
        throw new InvalidOptionError(
          'distillStep.studentFrames',
          studentFrames,
          `The batch has only ${n} frames per tracklet; use at most ${n}.`,
        );
      }
      const subset = tf.tensor1d(studentSubsetIndices(b, n, studentFrames, random), 'int32');
      let teacherOutputs: { embeddings: tf.Tensor2D; logits: tf.Tensor2D } | undefined;
      try {
        // Teacher outside the gradient tape: no gradient, no moving-statistics update.
        teacherOutputs = tf.tidy(() => {
          const { embeddings, logits } = teacher.forward(frames, { training: true, batchNorm: 'batch-stats-frozen' });
          return { embeddings, logits };
        });
        const teacherResult = teacherOutputs;
        const result = await minimizeObjective(
          student.trainableVariables(),
          nonTrainableVariables(student),
          optimizer,
          () => {
            const [, , h, w, c] = frames.shape;
            const flat = tf.reshape(frames, [b * n, h, w, c]);
            const studentInput = tf.reshape(tf.gather(flat, subset), [b, studentFrames, h, w, c]);
            const { embeddings, logits } = student.forward(studentInput, { training: true, recompute });
            return vkdObjective({ teacher: teacherResult, student: { embeddings, logits }, labels }, weights);
          },
          'distillStep',
        );
        return { ...result, images: b * n };
      } finally {
        tf.dispose([frames, labels, subset]);
        if (teacherOutputs) tf.dispose([teacherOutputs.embeddings, teacherOutputs.logits]);
      }
    },
    getState: () => ({ subsetRandom: random.state() }),
    setState(state) {
      const value = state.subsetRandom;
      if (typeof value !== 'number')
        throw new InvalidOptionError(
          'distillStep state.subsetRandom',
          value,
          'Expected the number saved by getState().',
        );
      random = createRandom(value);
    },
  };
}

/**
 * Row indices into the flattened `[B·N]` frames: for each tracklet, the first M entries of an independent random
 * permutation of its N views (`torch.randperm(N)[:M]` per sample in the authors' code).
 * @returns Int32Array `[B·M]`.
 */
export function studentSubsetIndices(
  tracklets: number,
  views: number,
  studentViews: number,
  random: Random,
): Int32Array {
  const indices = new Int32Array(tracklets * studentViews);
  const order = Array.from({ length: views }, (_, view) => view);
  for (let tracklet = 0; tracklet < tracklets; tracklet++) {
    for (let view = 0; view < views; view++) order[view] = view;
    random.shuffle(order);
    for (let slot = 0; slot < studentViews; slot++)
      indices[tracklet * studentViews + slot] = tracklet * views + (order[slot] as number);
  }
  return indices;
}
