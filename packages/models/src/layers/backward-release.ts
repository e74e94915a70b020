import * as tf from '@tensorflow/tfjs-core';

/**
 * Progressive freeing inside a `tf.customGrad` backward pass. tfjs keeps every tensor a custom op saved (`save()`
 * keeps a clone) and every intermediate gradient (dy) alive until the whole backward pass of `tf.variableGrads` /
 * `tf.grads` ends; PyTorch frees each as soon as its node's backward ran. A gradFunc may free them itself:
 * - a saved tensor is a kept clone of its own (shared data, own reference count), used by nothing else, so disposing
 *   it after its last use drops the data as soon as no other clone holds it (tfjs disposes it again at the end,
 *   which is a no-op);
 * - the dy handed to a gradFunc is the accumulated gradient of the op's output, which only the op that produced the
 *   output reads; it may be disposed once used, when it was made by the backward pass itself (not a `dy` the caller
 *   passed to `tf.grad`).
 * Neither is done under a higher-order gradient (an enclosing tape records the backward pass and may need them).
 */
export function canReleaseInBackward(): boolean {
  return tf.engine().state.gradientDepth === 0;
}

/** Disposes a saved tensor after its last use in the backward pass (see {@link canReleaseInBackward}). */
export function releaseSaved(tensor: tf.Tensor | undefined): void {
  if (tensor && canReleaseInBackward()) tensor.dispose();
}

/**
 * A function that disposes the dy a gradFunc received once it is used, when the backward pass made it: it lives in the
 * backward pass's own scope, the scope the gradFunc is called in (call this at the gradFunc's start, outside any
 * `tf.tidy` of its own).
 */
export function gradientReleaser(): (dy: tf.Tensor) => void {
  const scope = tf.engine().state.activeScope;
  const allowed = canReleaseInBackward() && scope !== null;
  return (dy) => {
    if (allowed && dy.scopeId === scope.id && !dy.kept) dy.dispose();
  };
}

/**
 * Reference counts for tensors that several records of one backward pass share (a unit's output is the next unit's
 * input): each {@link TensorUses.release} drops one use, the last one disposes the tensor (when releasing is allowed).
 */
export class TensorUses {
  private readonly counts = new Map<tf.Tensor, number>();

  /** Counts one more use of each defined tensor. */
  add(...tensors: Array<tf.Tensor | undefined>): void {
    for (const tensor of tensors) if (tensor) this.counts.set(tensor, (this.counts.get(tensor) ?? 0) + 1);
  }

  /** Drops one use of each defined tensor; disposes those without uses left. */
  release(...tensors: Array<tf.Tensor | undefined>): void {
    for (const tensor of tensors) {
      if (!tensor) continue;
      const left = (this.counts.get(tensor) ?? 1) - 1;
      if (left > 0) {
        this.counts.set(tensor, left);
        continue;
      }
      this.counts.delete(tensor);
      releaseSaved(tensor);
    }
  }
}

/** Distinct tensors of a list, in first-seen order (what a customGrad saves once each), and each one's slot. */
export function distinctTensors(tensors: ReadonlyArray<tf.Tensor | undefined>): {
  list: tf.Tensor[];
  slots: number[];
} {
  const slotOf = new Map<tf.Tensor, number>();
  const list: tf.Tensor[] = [];
  const slots = tensors.map((tensor) => {
    if (!tensor) return -1;
    let slot = slotOf.get(tensor);
    if (slot === undefined) {
      slot = list.length;
      slotOf.set(tensor, slot);
      list.push(tensor);
    }
    return slot;
  });
  return { list, slots };
}
