import * as tf from '@tensorflow/tfjs-core';
import { teacherObjective, type TeacherObjectiveOptions } from '@vkd/losses';
import type { ReidModel } from '@vkd/models';
import type { AdamWithL2 } from './adam-with-l2';
import { batchTensors, type BatchArrays } from './batch';
import { minimizeObjective, nonTrainableVariables } from './minimize-objective';
import type { TrainingStep } from './training-step';

/** Options of {@link teacherStep}. */
export interface TeacherStepOptions {
  model: ReidModel;
  optimizer: AdamWithL2;
  /** Passed to `teacherObjective` (default: no label smoothing, soft-margin triplet, as the authors). */
  objective?: TeacherObjectiveOptions;
  /**
   * Activation recomputation (default false): the model keeps only each stage's input for the backward pass and
   * recomputes the rest (ResNet; `ForwardOptions.recompute`): less memory per frame, about one more forward pass.
   */
  recompute?: boolean;
}

/**
 * The teacher-stage step (`tools/train_v2v.py`): the model sees all N frames of each tracklet,
 * `L = L_CE(frame-averaged logits) + L_triplet(pre-BNNeck set embeddings)`, Adam with L2.
 * @returns a `TrainingStep` over `[B, N, H, W, 3]` batches; `images` = B·N.
 * @throws (from `run`) ShapeMismatchError for a malformed batch, NonFiniteValueError for a NaN/Inf loss.
 */
export function teacherStep(options: TeacherStepOptions): TrainingStep<BatchArrays> {
  const { model, optimizer, objective, recompute = false } = options;
  return {
    kind: 'teacher',
    model,
    optimizer,
    async run(batch) {
      const { frames, labels } = batchTensors(batch, 'teacherStep.batch');
      try {
        const result = await minimizeObjective(
          model.trainableVariables(),
          nonTrainableVariables(model),
          optimizer,
          () => {
            const { embeddings, logits } = model.forward(frames, { training: true, recompute });
            return teacherObjective({ embeddings, logits, labels }, objective);
          },
          'teacherStep',
        );
        return { ...result, images: (frames.shape[0] as number) * (frames.shape[1] as number) };
      } finally {
        tf.dispose([frames, labels]);
      }
    },
    getState: () => ({}),
    setState: () => undefined,
  };
}
