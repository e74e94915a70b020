import * as tf from '@tensorflow/tfjs-core';
import { CheckpointError } from '@vkd/core';

/** Non-finite values and the largest finite magnitude of one tensor. */
export interface TensorHealth {
  readonly name: string;
  readonly nonFinite: number;
  readonly maxAbs: number;
}

/**
 * Counts the NaN/±Inf values and finds the largest finite |value| of every tensor, with one read from the backend.
 * @returns one entry per tensor, in the order of `tensors`.
 */
export async function tensorHealth(tensors: Record<string, tf.Tensor>): Promise<TensorHealth[]> {
  const entries = Object.entries(tensors).filter(([, tensor]) => tensor.size > 0);
  if (entries.length === 0) return [];
  const summary = tf.tidy(() =>
    tf.stack(
      entries.flatMap(([, tensor]) => {
        const values = tensor.dtype === 'float32' ? tensor : tf.cast(tensor, 'float32');
        const finite = tf.isFinite(values);
        return [
          tf.sum(tf.cast(tf.logicalNot(finite), 'float32')),
          tf.max(tf.abs(tf.where(finite, values, tf.zerosLike(values)))),
        ];
      }),
    ),
  );
  try {
    const values = await summary.data();
    return entries.map(([name], index) => ({
      name,
      nonFinite: values[2 * index] as number,
      maxAbs: values[2 * index + 1] as number,
    }));
  } finally {
    summary.dispose();
  }
}

/** `"model.layer1.0.conv1.weight" (12 of 1,728 values)`, for the first few unhealthy tensors. */
export function describeNonFinite(health: readonly TensorHealth[], tensors: Record<string, tf.Tensor>): string {
  const bad = health.filter((entry) => entry.nonFinite > 0);
  const total = bad.reduce((sum, entry) => sum + entry.nonFinite, 0);
  const named = bad
    .slice(0, 3)
    .map((entry) => `${entry.name} (${entry.nonFinite} of ${tensors[entry.name]?.size ?? '?'} values)`);
  return `${total} NaN/Inf values in ${bad.length} tensors: ${named.join(', ')}${bad.length > 3 ? ', …' : ''}`;
}

const INTEGER_FIELDS = ['nextEpoch', 'globalStep', 'trainableVariables'] as const;

/**
 * Checks the fields of a `state.json` that resuming relies on, so a hand-edited or damaged file fails with its name
 * instead of producing e.g. "next epoch four1".
 * @throws CheckpointError naming the file and the field.
 */
export function validateCheckpointState(state: Record<string, unknown>, file: string): void {
  for (const field of INTEGER_FIELDS) {
    const value = state[field];
    if (!(Number.isInteger(value) && (value as number) >= 0)) {
      throw new CheckpointError(
        file,
        `field ${field} is ${JSON.stringify(value)}, expected an integer >= 0; the file is damaged, resume from another checkpoint`,
      );
    }
  }
  if (!(typeof state.learningRate === 'number' && Number.isFinite(state.learningRate) && state.learningRate >= 0)) {
    throw new CheckpointError(
      file,
      `field learningRate is ${JSON.stringify(state.learningRate)}, expected a finite number >= 0; the file is damaged`,
    );
  }
  if (typeof state.stepKind !== 'string')
    throw new CheckpointError(
      file,
      `field stepKind is ${JSON.stringify(state.stepKind)}, expected a string; the file is damaged`,
    );
  const optimizer = state.optimizer as { iterations?: unknown } | undefined;
  if (
    !(
      typeof optimizer === 'object' &&
      optimizer !== null &&
      Number.isInteger(optimizer.iterations) &&
      (optimizer.iterations as number) >= 0
    )
  ) {
    throw new CheckpointError(
      file,
      'field optimizer.iterations is missing or not an integer >= 0; the file is damaged',
    );
  }
}
