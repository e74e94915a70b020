import * as tf from '@tensorflow/tfjs-core';
import { NonFiniteValueError } from '@vkd/core';
import type { AdamWithL2 } from './adam-with-l2';

/** Variables a forward pass may change besides the trainable ones (BN moving statistics). */
export function nonTrainableVariables(model: {
  variables(): tf.Variable[];
  trainableVariables(): tf.Variable[];
}): tf.Variable[] {
  const trainable = new Set(model.trainableVariables());
  return model.variables().filter((variable) => !trainable.has(variable));
}

/** The loss closure's result: a differentiable total plus named scalar terms (as `@vkd/losses` objectives return). */
export interface Objective {
  total: tf.Scalar;
  terms: Partial<Record<string, tf.Scalar>>;
}

/**
 * One optimisation step: gradients of `objective().total` w.r.t. `variables`, a single read-back of the total and
 * every term, a finiteness check, then the Adam update. All intermediate tensors are freed (no growth per step).
 * @param state non-trainable variables the forward pass updates (BN moving statistics): restored when the loss is
 *   not finite, so a NaN batch leaves the model exactly as it was.
 * @returns the total and the terms as numbers.
 * @throws NonFiniteValueError naming `where` and every term when the loss is NaN/Inf; the update is NOT applied.
 */
export async function minimizeObjective(
  variables: readonly tf.Variable[],
  state: readonly tf.Variable[],
  optimizer: AdamWithL2,
  objective: () => Objective,
  where: string,
): Promise<{ total: number; losses: Record<string, number> }> {
  let names: string[] = [];
  optimizer.prepare(variables);
  const saved = state.map((variable) => tf.clone(variable));
  const { values, grads } = tf.tidy(() => {
    let kept: tf.Tensor | undefined;
    const result = tf.variableGrads(() => {
      const { total, terms } = objective();
      names = Object.keys(terms).filter((name) => terms[name] !== undefined);
      kept = tf.keep(tf.stack([total, ...names.map((name) => terms[name] as tf.Scalar)]));
      return total;
    }, [...variables]);
    return { values: kept as tf.Tensor, grads: result.grads };
  });
  try {
    const numbers = await values.data();
    const total = numbers[0] as number;
    const losses = Object.fromEntries(names.map((name, index) => [name, numbers[index + 1] as number]));
    if (![...numbers].every(Number.isFinite)) {
      state.forEach((variable, index) => variable.assign(saved[index] as tf.Tensor));
      const detail = [`total=${total}`, ...names.map((name) => `${name}=${losses[name]}`)].join(', ');
      throw new NonFiniteValueError(where, `loss is not finite (${detail})`);
    }
    // Variables the loss does not reach get no update, as PyTorch skips parameters whose grad is None.
    const reached = variables.filter((variable) => grads[variable.name] !== undefined);
    await optimizer.applyGradients(
      reached,
      reached.map((variable) => grads[variable.name] as tf.Tensor),
    );
    return { total, losses };
  } finally {
    tf.dispose(saved);
    tf.dispose(values);
    tf.dispose(Object.values(grads));
  }
}
