import * as tf from '@tensorflow/tfjs-core';
import { ADAM_UPDATE_KERNEL, CheckpointError, InvalidOptionError } from '@vkd/core';
import type { AdamUpdateAttrs } from '@vkd/core';

/**
 * Where and how the Adam arithmetic runs: tensor ops per variable (`'device'`), the same tensor ops over groups of
 * variables concatenated into flat buffers (`'grouped'`: ~20 ops per group instead of ~12 per variable), or one
 * fused JavaScript loop over host memory (`'host'`).
 */
export type AdamUpdateMode = 'auto' | 'device' | 'grouped' | 'host';

/** Values per group of the `'grouped'` update (a variable larger than this forms a group of its own). */
export const ADAM_GROUP_ELEMENTS = 1 << 21;

/** Options of {@link adamWithL2}; defaults are the VKD authors' (PyTorch `Adam(lr=1e-4, weight_decay=1e-5)`). */
export interface AdamWithL2Options {
  /** Initial learning rate (default 1e-4). */
  learningRate?: number;
  /** L2 coefficient added to every gradient as `g + weightDecay·w` (PyTorch style, not AdamW; default 1e-5). */
  weightDecay?: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /**
   * `'host'`: one fused JavaScript loop per variable over host memory, moments kept as Float32Arrays (no per-op
   * dispatch). `'device'`: tensor ops per variable (no read-back). `'grouped'`: the same tensor ops over groups of
   * consecutive variables concatenated into flat buffers of up to {@link ADAM_GROUP_ELEMENTS} values, so a ResNet-50
   * update is ~500 ops instead of ~1,900 (on GPUs each op costs host-side dispatch time). All three give the same
   * values. `'device'` runs one fused kernel per variable (`VkdAdamUpdate`, @vkd/core's fused-kernels) where the
   * active backend has one registered (e.g. by @vkd/backends' `registerFastKernels`).
   * `'auto'` (default), decided at first use: `'device'` where the fused kernel is registered, else `'host'` on the
   * `cpu` backend (measured 15× faster there),
   * `'grouped'` on the GPU backends `webgpu` and `webgl` (where each op costs dispatch time and the host path would read
   * every weight back), `'device'` elsewhere (`wasm`: its kernels beat the JS loop ~1.6× and grouping's copies cost
   * 1.7× more than the dispatches they save; `tensorflow`: native ops are cheap to dispatch).
   */
  update?: AdamUpdateMode;
  /** Values per group of the `'grouped'` update (default {@link ADAM_GROUP_ELEMENTS}). */
  groupElements?: number;
}

/** Everything needed to continue Adam bit-exactly: the update count and the two moment tensors per variable. */
export interface AdamState {
  iterations: number;
  /** `m.<i>` and `v.<i>` for the i-th variable of the list given to `exportState` (caller disposes). */
  tensors: Record<string, tf.Tensor>;
}

/** Adam with L2 weight decay in the gradient, matching `torch.optim.Adam` update for update. */
export interface AdamWithL2 {
  readonly options: Readonly<Required<AdamWithL2Options>>;
  /** Current learning rate; the LR schedule sets it once per epoch. */
  learningRate: number;
  /** Number of updates applied so far (PyTorch's `state['step']`). */
  readonly iterations: number;
  /**
   * Applies one update. `gradients[i]` belongs to `variables[i]` (same shape); the gradients are not disposed.
   * @throws InvalidOptionError when the lists differ in length.
   */
  applyGradients(variables: readonly tf.Variable[], gradients: readonly tf.Tensor[]): Promise<void>;
  /**
   * Creates the moments of `variables` now if they do not exist yet (the first update does otherwise). Called before
   * the first training pass, it places them in memory below that pass's activations (wasm: allocated after the first
   * backward pass, they raised the heap's high-water mark of every later step by their size).
   */
  prepare(variables: readonly tf.Variable[]): void;
  /** Copies of the moment tensors keyed by position in `variables` (caller disposes). */
  exportState(variables: readonly tf.Variable[]): AdamState;
  /** Restores moments exported for the same variable list. @throws CheckpointError on missing or mis-shaped tensors. */
  importState(variables: readonly tf.Variable[], state: AdamState, source?: string): Promise<void>;
  /** Frees the moment tensors. */
  dispose(): void;
}

interface Hyper {
  beta1: number;
  beta2: number;
  epsilon: number;
  weightDecay: number;
}

/** Per-variable first and second moments, on the device or on the host. */
interface MomentStore {
  prepare(variables: readonly tf.Variable[]): void;
  update(
    variables: readonly tf.Variable[],
    gradients: readonly tf.Tensor[],
    stepSize: number,
    rootCorrection2: number,
  ): Promise<void>;
  export(variable: tf.Variable): { m: tf.Tensor; v: tf.Tensor };
  import(variable: tf.Variable, m: tf.Tensor, v: tf.Tensor): Promise<void>;
  dispose(): void;
}

/**
 * Creates Adam with PyTorch-style L2 weight decay (`vkd-method.md` §3.2, §4.6). Per variable and step:
 * `g ← g + wd·w; m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²; w ← w − (lr/(1−β1^t))·m / (√v/√(1−β2^t) + ε)`,
 * in PyTorch's operation order, bias corrections in float64 on the host as PyTorch does.
 * @throws InvalidOptionError naming the option out of range.
 */
export function adamWithL2(options: AdamWithL2Options = {}): AdamWithL2 {
  const resolved = validateAdamOptions(options);
  const { beta1, beta2 } = resolved;
  let learningRate = resolved.learningRate;
  let iterations = 0;
  let store: MomentStore | undefined;
  const storeFor = (): MomentStore => {
    if (!store) {
      const backend = tf.getBackend();
      const mode =
        resolved.update !== 'auto'
          ? resolved.update
          : hasFusedAdam()
            ? 'device'
            : backend === 'cpu'
              ? 'host'
              : backend === 'webgpu' || backend === 'webgl'
                ? 'grouped'
                : 'device';
      store =
        mode === 'host'
          ? hostMoments(resolved)
          : mode === 'grouped'
            ? groupedMoments(resolved, resolved.groupElements)
            : deviceMoments(resolved);
    }
    return store;
  };

  return {
    options: resolved,
    get learningRate() {
      return learningRate;
    },
    set learningRate(value: number) {
      if (!(Number.isFinite(value) && value >= 0)) {
        throw new InvalidOptionError('learningRate', value, 'Use a finite number >= 0.');
      }
      learningRate = value;
    },
    get iterations() {
      return iterations;
    },
    async applyGradients(variables, gradients) {
      if (variables.length !== gradients.length) {
        throw new InvalidOptionError(
          'gradients',
          gradients.length,
          `Expected one gradient per variable (${variables.length}).`,
        );
      }
      iterations += 1;
      const stepSize = learningRate / (1 - beta1 ** iterations);
      await storeFor().update(variables, gradients, stepSize, Math.sqrt(1 - beta2 ** iterations));
    },
    prepare(variables) {
      storeFor().prepare(variables);
    },
    exportState(variables) {
      const tensors: Record<string, tf.Tensor> = {};
      variables.forEach((variable, index) => {
        const { m, v } = storeFor().export(variable);
        tensors[`m.${index}`] = m;
        tensors[`v.${index}`] = v;
      });
      return { iterations, tensors };
    },
    async importState(variables, state, source = 'optimizer state') {
      if (!(Number.isInteger(state.iterations) && state.iterations >= 0)) {
        throw new CheckpointError(source, `optimizer iterations must be an integer >= 0, got ${state.iterations}`);
      }
      variables.forEach((variable, index) => {
        for (const slot of ['m', 'v'] as const) {
          const tensor = state.tensors[`${slot}.${index}`];
          if (tensor === undefined) {
            throw new CheckpointError(
              source,
              `missing optimizer tensor ${slot}.${index}; was it saved for the same model?`,
            );
          }
          if (tensor.shape.join(',') !== variable.shape.join(',')) {
            throw new CheckpointError(
              source,
              `optimizer tensor ${slot}.${index} has shape [${tensor.shape}] but variable ${index} has [${variable.shape}]`,
            );
          }
        }
      });
      for (const [index, variable] of variables.entries()) {
        await storeFor().import(
          variable,
          state.tensors[`m.${index}`] as tf.Tensor,
          state.tensors[`v.${index}`] as tf.Tensor,
        );
      }
      iterations = state.iterations;
    },
    dispose() {
      store?.dispose();
      store = undefined;
    },
  };
}

type AdamConstants = Record<
  'beta1' | 'oneMinusBeta1' | 'beta2' | 'oneMinusBeta2' | 'epsilon' | 'weightDecay',
  tf.Scalar
>;

function adamConstants(hyper: Hyper): AdamConstants {
  return {
    beta1: tf.scalar(hyper.beta1),
    oneMinusBeta1: tf.scalar(1 - hyper.beta1),
    beta2: tf.scalar(hyper.beta2),
    oneMinusBeta2: tf.scalar(1 - hyper.beta2),
    epsilon: tf.scalar(hyper.epsilon),
    weightDecay: tf.scalar(hyper.weightDecay),
  };
}

/**
 * One Adam update in PyTorch's operation order on tensors of any shape (call inside `tf.tidy`). Each temporary is
 * freed as soon as it is consumed: at most ~5 variable-sized tensors live at once instead of ~13.
 * @returns the new weights and moments.
 */
function adamArithmetic(
  constants: AdamConstants,
  weightDecay: number,
  weights: tf.Tensor,
  gradient: tf.Tensor,
  moment: { m: tf.Tensor; v: tf.Tensor },
  negativeStep: tf.Scalar,
  correction: tf.Scalar,
): { weights: tf.Tensor; m: tf.Tensor; v: tf.Tensor } {
  const g =
    weightDecay !== 0 ? consume(tf.mul(constants.weightDecay, weights), (decay) => tf.add(gradient, decay)) : gradient;
  const m = blend(constants.beta1, moment.m, constants.oneMinusBeta1, g);
  const squared = tf.square(g);
  if (g !== gradient) g.dispose();
  const v = consume(squared, (gSquared) => blend(constants.beta2, moment.v, constants.oneMinusBeta2, gSquared));
  const denominator = consume(
    consume(tf.sqrt(v), (root) => tf.div(root, correction)),
    (scaled) => tf.add(scaled, constants.epsilon),
  );
  const step = consume(
    consume(denominator, (d) => tf.div(m, d)),
    (ratio) => tf.mul(negativeStep, ratio),
  );
  return { weights: consume(step, (delta) => tf.add(weights, delta)), m, v };
}

/** `f(tensor)`, then `tensor` disposed. */
function consume(tensor: tf.Tensor, f: (tensor: tf.Tensor) => tf.Tensor): tf.Tensor {
  const result = f(tensor);
  tensor.dispose();
  return result;
}

/** a·x + b·y, the two products freed at once. */
function blend(a: tf.Scalar, x: tf.Tensor, b: tf.Scalar, y: tf.Tensor): tf.Tensor {
  return consume(tf.mul(a, x), (ax) => consume(tf.mul(b, y), (by) => tf.add(ax, by)));
}

/** Whether the active backend has the fused Adam kernel registered. */
function hasFusedAdam(): boolean {
  return tf.getKernel(ADAM_UPDATE_KERNEL, tf.getBackend()) !== undefined;
}

/**
 * Moments as tf.Variables; the update is one fused kernel per variable where the backend has one registered, else
 * ~12 tensor ops per variable, each variable in a tidy of its own.
 */
function deviceMoments(hyper: Hyper): MomentStore {
  const moments = new Map<tf.Variable, { m: tf.Variable; v: tf.Variable }>();
  const constants = adamConstants(hyper);
  const momentsOf = (variable: tf.Variable) => {
    let found = moments.get(variable);
    if (found === undefined) {
      found = tf.tidy(() => ({
        m: tf.variable(tf.zerosLike(variable), false),
        v: tf.variable(tf.zerosLike(variable), false),
      }));
      moments.set(variable, found);
    }
    return found;
  };
  return {
    prepare(variables) {
      for (const variable of variables) momentsOf(variable);
    },
    async update(variables, gradients, stepSize, rootCorrection2) {
      if (hasFusedAdam()) {
        tf.tidy(() => {
          const { beta1, beta2, epsilon, weightDecay } = hyper;
          const attrs: AdamUpdateAttrs = { beta1, beta2, epsilon, weightDecay, stepSize, rootCorrection2 };
          variables.forEach((variable, index) => {
            const moment = momentsOf(variable);
            const inputs = { weights: variable, gradient: gradients[index] as tf.Tensor, m: moment.m, v: moment.v };
            const [weights, m, v] = tf
              .engine()
              .runKernel(ADAM_UPDATE_KERNEL, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
            moment.m.assign(m as tf.Tensor);
            moment.v.assign(v as tf.Tensor);
            variable.assign(weights as tf.Tensor);
          });
        });
        return;
      }
      const negativeStep = tf.scalar(-stepSize);
      const correction = tf.scalar(rootCorrection2);
      // One tidy per variable: its temporaries are freed before the next variable's are made (one tidy around the
      // whole update kept ~10 variable-sized temporaries of EVERY variable alive at once: ResNet-18, +435 MB).
      variables.forEach((variable, index) => {
        const moment = momentsOf(variable);
        tf.tidy(() => {
          const next = adamArithmetic(
            constants,
            hyper.weightDecay,
            variable,
            gradients[index] as tf.Tensor,
            moment,
            negativeStep,
            correction,
          );
          moment.m.assign(next.m);
          moment.v.assign(next.v);
          variable.assign(next.weights);
        });
      });
      tf.dispose([negativeStep, correction]);
    },
    export(variable) {
      const moment = moments.get(variable);
      return moment
        ? { m: tf.clone(moment.m), v: tf.clone(moment.v) }
        : { m: tf.zerosLike(variable), v: tf.zerosLike(variable) };
    },
    async import(variable, m, v) {
      const moment = momentsOf(variable);
      moment.m.assign(m);
      moment.v.assign(v);
    },
    dispose() {
      for (const moment of moments.values()) tf.dispose([moment.m, moment.v]);
      moments.clear();
      tf.dispose(Object.values(constants));
    },
  };
}

/** A group of consecutive variables whose moments live in two flat variables. */
interface MomentGroup {
  readonly first: number;
  readonly variables: readonly tf.Variable[];
  readonly sizes: number[];
  readonly m: tf.Variable;
  readonly v: tf.Variable;
}

/**
 * Moments in flat variables, one pair per group of consecutive variables (≤ ADAM_GROUP_ELEMENTS values each). Per
 * group and step: concat the gradients and the weights, the same element-wise arithmetic as `deviceMoments` (so
 * the same values), split the new weights back. The grouping follows the variable list of the first update and is
 * rebuilt, keeping every known moment, when a later update passes a different list.
 */
function groupedMoments(hyper: Hyper, groupElements: number): MomentStore {
  const constants = adamConstants(hyper);
  let groups: MomentGroup[] = [];
  let layoutKey = '';
  const placed = new Map<tf.Variable, { group: MomentGroup; offset: number }>();
  /** Moments imported (or kept across a re-layout) before they are placed in a group. */
  const pending = new Map<tf.Variable, { m: tf.Tensor; v: tf.Tensor }>();
  const flat = (tensors: readonly tf.Tensor[]) =>
    tensors.length === 1
      ? tf.reshape(tensors[0] as tf.Tensor, [-1])
      : tf.concat(tensors.map((t) => tf.reshape(t, [-1])));
  const momentOf = (variable: tf.Variable): { m: tf.Tensor; v: tf.Tensor } | undefined => {
    const waiting = pending.get(variable);
    if (waiting) return { m: tf.clone(waiting.m), v: tf.clone(waiting.v) };
    const where = placed.get(variable);
    if (!where) return undefined;
    return tf.tidy(() => ({
      m: tf.reshape(tf.slice(where.group.m, [where.offset], [variable.size]), variable.shape),
      v: tf.reshape(tf.slice(where.group.v, [where.offset], [variable.size]), variable.shape),
    }));
  };
  const layout = (variables: readonly tf.Variable[]) => {
    const key = variables.map((variable) => variable.id).join(',');
    if (key === layoutKey) return;
    for (const variable of variables) {
      if (pending.has(variable)) continue;
      const kept = momentOf(variable);
      if (kept) pending.set(variable, kept);
    }
    for (const group of groups) tf.dispose([group.m, group.v]);
    groups = [];
    placed.clear();
    let first = 0;
    while (first < variables.length) {
      let end = first + 1;
      let total = (variables[first] as tf.Variable).size;
      while (end < variables.length && total + (variables[end] as tf.Variable).size <= groupElements)
        total += (variables[end++] as tf.Variable).size;
      const members = variables.slice(first, end);
      const [m, v] = (['m', 'v'] as const).map((slot) =>
        tf.tidy(() =>
          tf.variable(
            flat(members.map((variable) => pending.get(variable)?.[slot] ?? tf.zeros([variable.size]))),
            false,
          ),
        ),
      ) as [tf.Variable, tf.Variable];
      const group: MomentGroup = { first, variables: members, sizes: members.map((variable) => variable.size), m, v };
      let offset = 0;
      for (const variable of members) {
        placed.set(variable, { group, offset });
        offset += variable.size;
      }
      groups.push(group);
      first = end;
    }
    for (const moments of pending.values()) tf.dispose([moments.m, moments.v]);
    pending.clear();
    layoutKey = key;
  };
  return {
    prepare: layout,
    async update(variables, gradients, stepSize, rootCorrection2) {
      layout(variables);
      const negativeStep = tf.scalar(-stepSize);
      const correction = tf.scalar(rootCorrection2);
      for (const group of groups) {
        tf.tidy(() => {
          const weights = flat(group.variables);
          const gradient = flat(gradients.slice(group.first, group.first + group.variables.length));
          const next = adamArithmetic(constants, hyper.weightDecay, weights, gradient, group, negativeStep, correction);
          group.m.assign(next.m);
          group.v.assign(next.v);
          const pieces = group.variables.length === 1 ? [next.weights] : tf.split(next.weights, group.sizes);
          group.variables.forEach((variable, index) =>
            variable.assign(tf.reshape(pieces[index] as tf.Tensor, variable.shape)),
          );
        });
      }
      tf.dispose([negativeStep, correction]);
    },
    export(variable) {
      return momentOf(variable) ?? { m: tf.zerosLike(variable), v: tf.zerosLike(variable) };
    },
    async import(variable, m, v) {
      const previous = pending.get(variable);
      if (previous) tf.dispose([previous.m, previous.v]);
      pending.set(variable, { m: tf.clone(m), v: tf.clone(v) });
      layoutKey = '';
    },
    dispose() {
      for (const group of groups) tf.dispose([group.m, group.v]);
      for (const moments of pending.values()) tf.dispose([moments.m, moments.v]);
      groups = [];
      placed.clear();
      pending.clear();
      layoutKey = '';
      tf.dispose(Object.values(constants));
    },
  };
}

/**
 * Moments as Float32Arrays; one fused loop per variable over the values read with `await data()`, then one
 * `assign`. No per-op dispatch, so it is far cheaper than tensor ops on the cpu backend.
 */
function hostMoments(hyper: Hyper): MomentStore {
  const moments = new Map<tf.Variable, { m: Float32Array; v: Float32Array }>();
  const momentsOf = (variable: tf.Variable) => {
    let found = moments.get(variable);
    if (found === undefined) {
      found = { m: new Float32Array(variable.size), v: new Float32Array(variable.size) };
      moments.set(variable, found);
    }
    return found;
  };
  const { beta1, beta2, epsilon, weightDecay } = hyper;
  return {
    prepare: () => undefined,
    async update(variables, gradients, stepSize, rootCorrection2) {
      const values = await Promise.all(variables.map((variable) => variable.data() as Promise<Float32Array>));
      const grads = await Promise.all(gradients.map((gradient) => gradient.data() as Promise<Float32Array>));
      variables.forEach((variable, index) => {
        const { m, v } = momentsOf(variable);
        const weights = values[index] as Float32Array;
        const gradient = grads[index] as Float32Array;
        const updated = new Float32Array(weights.length);
        for (let i = 0; i < weights.length; i++) {
          const w = weights[i] as number;
          const g = Math.fround((gradient[i] as number) + weightDecay * w);
          const mi = Math.fround(beta1 * (m[i] as number) + (1 - beta1) * g);
          const vi = Math.fround(beta2 * (v[i] as number) + (1 - beta2) * g * g);
          m[i] = mi;
          v[i] = vi;
          updated[i] = w - (stepSize * mi) / (Math.sqrt(vi) / rootCorrection2 + epsilon);
        }
        tf.tidy(() => variable.assign(tf.tensor(updated, variable.shape, 'float32')));
      });
    },
    export(variable) {
      const { m, v } = momentsOf(variable);
      return { m: tf.tensor(m.slice(), variable.shape, 'float32'), v: tf.tensor(v.slice(), variable.shape, 'float32') };
    },
    async import(variable, m, v) {
      moments.set(variable, { m: Float32Array.from(await m.data()), v: Float32Array.from(await v.data()) });
    },
    dispose() {
      moments.clear();
    },
  };
}

function validateAdamOptions(options: AdamWithL2Options): Required<AdamWithL2Options> {
  const resolved = {
    learningRate: 1e-4,
    weightDecay: 1e-5,
    beta1: 0.9,
    beta2: 0.999,
    epsilon: 1e-8,
    update: 'auto' as const,
    groupElements: ADAM_GROUP_ELEMENTS,
    ...options,
  };
  const check = (name: keyof AdamWithL2Options, ok: boolean, reason: string) => {
    if (!ok) throw new InvalidOptionError(`adamWithL2.${name}`, resolved[name], reason);
  };
  check(
    'learningRate',
    Number.isFinite(resolved.learningRate) && resolved.learningRate >= 0,
    'Use a finite number >= 0 (VKD: 1e-4).',
  );
  check(
    'weightDecay',
    Number.isFinite(resolved.weightDecay) && resolved.weightDecay >= 0,
    'Use a finite number >= 0 (VKD: 1e-5).',
  );
  check('beta1', resolved.beta1 >= 0 && resolved.beta1 < 1, 'Use a number in [0, 1) (PyTorch: 0.9).');
  check('beta2', resolved.beta2 >= 0 && resolved.beta2 < 1, 'Use a number in [0, 1) (PyTorch: 0.999).');
  check(
    'epsilon',
    Number.isFinite(resolved.epsilon) && resolved.epsilon > 0,
    'Use a finite number > 0 (PyTorch: 1e-8).',
  );
  check(
    'groupElements',
    Number.isInteger(resolved.groupElements) && resolved.groupElements > 0,
    'Use a positive integer (values per group).',
  );
  check(
    'update',
    ['auto', 'device', 'grouped', 'host'].includes(resolved.update),
    "Use 'auto', 'device', 'grouped' or 'host'.",
  );
  return resolved;
}
