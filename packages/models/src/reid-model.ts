import * as tf from '@tensorflow/tfjs-core';
import { InvalidOptionError, ShapeMismatchError, createRandom, formatShape, type Random } from '@vkd/core';
import type { BackboneNetwork } from './backbones/backbone';
import { getBackbone } from './backbones/backbone-registry';
import { bnneckForward, bnneckSpecs, HEAD_PREFIX } from './heads/bnneck-head';
import type { BatchNormMode } from './layers/batch-norm';
import type { ForwardContext } from './layers/conv-unit';
import { validateReidModelOptions, type ReidModelConfig, type ReidModelOptions } from './model-options';
import { createParameterVariable, initialValues, type ParameterSpec } from './parameters';
import { temporalMean } from './temporal-pooling';

/** Options of {@link ReidModel.forward}. */
export interface ForwardOptions {
  /**
   * Training forward pass. With `batchNorm` unset, `true` normalises with batch statistics and updates the moving
   * statistics (PyTorch `train()`), `false` uses the moving statistics (PyTorch `eval()`).
   */
  training: boolean;
  /**
   * Overrides the BatchNorm behaviour: `'moving'` always uses the moving statistics (frozen BN);
   * `'batch-stats-frozen'` normalises with the current batch and never updates the moving statistics
   * (VKD's frozen teacher during distillation, `teacher_mode()`).
   */
  batchNorm?: 'moving' | 'batch-stats-frozen';
  /** Also return the layer4 feature maps (for Grad-CAM). */
  returnFeatureMaps?: boolean;
  /**
   * Activation recomputation (default false), for batches that do not fit otherwise: inside a gradient closure, a
   * ResNet keeps only each stage's input and recomputes the stage's forward pass during the backward pass (same
   * values and gradients; about one more forward pass of time). No effect without a tape or on other backbones.
   */
  recompute?: boolean;
}

/** Options of {@link ReidModel.forwardFromFeatureMaps}. */
export interface FeatureMapsForwardOptions {
  /** T of the forward pass that produced the maps (frames of one tracklet are contiguous). */
  framesPerTracklet: number;
  /** As in {@link ForwardOptions}; default false (moving statistics). */
  training?: boolean;
  batchNorm?: ForwardOptions['batchNorm'];
}

/** Output of {@link ReidModel.forward}; the caller disposes every tensor. */
export type ForwardResult = {
  /** [B, D]: temporal mean of the pre-BNNeck pooled frame features (triplet, DP loss, retrieval). */
  embeddings: tf.Tensor2D;
  /** [B, I]: per-frame logits `classifier(BNNeck(f))`, averaged over the T frames (CE, KD loss). */
  logits: tf.Tensor2D;
  /** [B·T, h, w, D]: layer4 output maps, frames of one tracklet contiguous (only with `returnFeatureMaps`). */
  featureMaps?: tf.Tensor4D;
};

/** Public description of one weight (see {@link ReidModel.weightSpecs}). */
export type WeightSpec = Readonly<Pick<ParameterSpec, 'name' | 'shape' | 'layout' | 'trainable'>>;

/**
 * A VKD re-identification network: a registry backbone (ResNet ± BAM, DenseNet, MobileNet), GAP, temporal mean, BNNeck
 * and classifier.
 */
export interface ReidModel {
  readonly config: ReidModelConfig;
  /** D, the last map's channels (width 64: resnet18/34 512, resnet50/101 2048, densenet121 1024, mobilenet 1280). */
  readonly embeddingDim: number;
  /**
   * Key prefixes of the weights the VKD student re-initialises (`reinitialiseLastStage`; `TriNet.reinit_layers`):
   * ResNet layer4, DenseNet denseblock4; empty for MobileNet, whose student resets only the head.
   */
  readonly studentReinitPrefixes: readonly string[];
  /**
   * Runs the network (synchronous, tidy-safe; fine inside `optimizer.minimize` / `tf.variableGrads`).
   * @param frames [B, T, H, W, 3] tracklets or [N, H, W, 3] single frames (T = 1), float32 RGB normalised with the
   *   ImageNet mean/std in the image pipeline.
   * @throws ShapeMismatchError for another rank or channel count; InvalidOptionError for bad options or dtype, or a
   *   single frame with batch-statistics BatchNorm.
   */
  forward(frames: tf.Tensor, options: ForwardOptions): ForwardResult;
  /**
   * The part of {@link forward} after layer4 (GAP, temporal mean, BNNeck, classifier) applied to given feature maps,
   * so that gradients with respect to the maps can be taken for Grad-CAM:
   * `tf.grad((maps) => tf.sum(model.forwardFromFeatureMaps(maps, { framesPerTracklet: T }).logits …))(featureMaps)`.
   * @param featureMaps [B·T, h, w, D], e.g. `forward(…, { returnFeatureMaps: true }).featureMaps`.
   * @returns `{ embeddings: [B, D], logits: [B, I] }` (caller disposes).
   * @throws ShapeMismatchError for maps of another shape; InvalidOptionError for a bad `framesPerTracklet`.
   */
  forwardFromFeatureMaps(
    featureMaps: tf.Tensor4D,
    options: FeatureMapsForwardOptions,
  ): { embeddings: tf.Tensor2D; logits: tf.Tensor2D };
  /** Variables the optimiser updates (everything but BN moving statistics and the frozen BNNeck bias). */
  trainableVariables(): tf.Variable[];
  /** Every variable, including BN moving statistics. */
  variables(): tf.Variable[];
  /** Names (VKD state_dict keys), shapes (this package's layout), layouts and trainability, in state_dict order. */
  weightSpecs(): readonly WeightSpec[];
  /** Copies of all weights by VKD state_dict key, conv filters HWIO, linears [in, out] (caller disposes). */
  getWeights(): Record<string, tf.Tensor>;
  /**
   * Assigns some or all weights (names and layout as {@link getWeights}). Values are validated before any is set.
   * @throws InvalidOptionError for an unknown name or non-float32 value; ShapeMismatchError for a wrong shape.
   */
  setWeights(weights: Record<string, tf.Tensor>): void;
  /** Fresh BNNeck + classifier (VKD `reinit_layers`); `numIdentities` changes the classifier size. */
  resetHead(numIdentities?: number): void;
  /**
   * Re-initialises the student's last stage as the backbone defines it (`BackboneNetwork.studentReinitPrefixes`:
   * layer4 of a ResNet, all its convs, BN affine and moving statistics): from `weights` (e.g. the `getWeights()`
   * of a model holding ImageNet weights, VKD's student initialisation §4.1) or, without it, randomly.
   * @throws InvalidOptionError when `weights` lacks a last-stage weight; ShapeMismatchError for a wrong shape.
   */
  reinitialiseLastStage(weights?: Record<string, tf.Tensor>): void;
  /** An independent copy (new variables, same values, same config). */
  clone(): ReidModel;
  dispose(): void;
}

let modelCounter = 0;

function architectureSpecs(network: BackboneNetwork, config: ReidModelConfig): ParameterSpec[] {
  return [...network.specs, ...bnneckSpecs(network.outChannels, config.numIdentities)];
}

/** Every weight of a model with this config, in state_dict order, without creating any tensor. */
export function reidModelSpecs(config: ReidModelConfig): ParameterSpec[] {
  return architectureSpecs(getBackbone(config.backbone).build(config), config);
}

/** Builds a model from a validated config and a value for every weight (used by the loaders; values are copied). */
export function buildReidModel(config: ReidModelConfig, values: Map<string, tf.Tensor>): ReidModel {
  return new VkdReidModel({ ...config }, createRandom(config.seed), values);
}

function resolveBatchNormMode(options: ForwardOptions): BatchNormMode {
  if (options === null || typeof options !== 'object' || typeof options.training !== 'boolean') {
    throw new InvalidOptionError(
      'forward.options.training',
      options?.training,
      'Pass { training: true } or { training: false }.',
    );
  }
  if (options.batchNorm === undefined) return options.training ? 'batch-update' : 'moving';
  if (options.batchNorm === 'moving') return 'moving';
  if (options.batchNorm === 'batch-stats-frozen') return 'batch-frozen';
  throw new InvalidOptionError(
    'forward.options.batchNorm',
    options.batchNorm,
    'Expected "moving" or "batch-stats-frozen" (or leave it unset).',
  );
}

class VkdReidModel implements ReidModel {
  readonly config: ReidModelConfig;
  readonly embeddingDim: number;
  readonly studentReinitPrefixes: readonly string[];
  private readonly network: BackboneNetwork;
  private specs: ParameterSpec[];
  private readonly store = new Map<string, tf.Variable>();
  private readonly random: Random;
  private readonly prefix: string;
  private disposed = false;

  constructor(config: ReidModelConfig, random: Random, values?: Map<string, tf.Tensor>) {
    this.config = config;
    this.random = random;
    this.network = getBackbone(config.backbone).build(config);
    this.embeddingDim = this.network.outChannels;
    this.studentReinitPrefixes = this.network.studentReinitPrefixes;
    this.specs = architectureSpecs(this.network, config);
    this.prefix = `vkd-reid-model-${++modelCounter}-${Math.random().toString(36).slice(2, 8)}/`;
    for (const spec of this.specs) {
      const value = values?.get(spec.name) ?? initialValues(spec, random);
      this.store.set(spec.name, createParameterVariable(spec, value, this.prefix));
    }
  }

  private context(mode: BatchNormMode, recompute = false): ForwardContext {
    const store = this.store;
    return {
      mode,
      recompute,
      variable(name: string) {
        const found = store.get(name);
        if (!found) throw new Error(`internal: no variable ${name}`);
        return found;
      },
    };
  }

  private assertAlive(): void {
    if (this.disposed)
      throw new InvalidOptionError('model', 'disposed', 'This ReidModel was disposed; create or load a new one.');
  }

  forward(frames: tf.Tensor, options: ForwardOptions): ForwardResult {
    this.assertAlive();
    const mode = resolveBatchNormMode(options);
    if (!(frames instanceof tf.Tensor))
      throw new InvalidOptionError('forward.frames', frames, 'Expected a tf.Tensor [B, T, H, W, 3] or [N, H, W, 3].');
    const shape = frames.shape;
    if ((frames.rank !== 4 && frames.rank !== 5) || shape[shape.length - 1] !== 3 || shape.some((dim) => dim < 1)) {
      throw new ShapeMismatchError('forward.frames', '[B, T, H, W, 3] or [N, H, W, 3]', formatShape(shape));
    }
    if (frames.dtype !== 'float32')
      throw new InvalidOptionError('forward.frames.dtype', frames.dtype, 'Expected float32 (ImageNet-normalised RGB).');
    const [tracklets, frameCount] =
      frames.rank === 5 ? [shape[0] as number, shape[1] as number] : [shape[0] as number, 1];
    const [height, width] = shape.slice(-3, -1) as [number, number];
    if (mode !== 'moving' && tracklets * frameCount < 2) {
      throw new InvalidOptionError(
        'forward.frames',
        formatShape(shape),
        'Batch-statistics BatchNorm (training, or batchNorm "batch-stats-frozen") needs at least 2 frames: the BNNeck normalises over frames (PyTorch raises here too).',
      );
    }
    if (options.recompute !== undefined && typeof options.recompute !== 'boolean')
      throw new InvalidOptionError('forward.options.recompute', options.recompute, 'Expected true or false.');
    const context = this.context(mode, options.recompute ?? false);
    return tf.tidy(() => {
      const images = tf.reshape(frames, [tracklets * frameCount, height, width, 3]) as tf.Tensor4D;
      const featureMaps = this.network.forward(images, context);
      const { embeddings, logits } = this.head(featureMaps, tracklets, frameCount, context);
      return options.returnFeatureMaps ? { embeddings, logits, featureMaps } : { embeddings, logits };
    });
  }

  /** GAP → temporal mean (embeddings) and BNNeck → classifier → temporal mean (logits). */
  private head(
    featureMaps: tf.Tensor4D,
    tracklets: number,
    frameCount: number,
    context: ForwardContext,
  ): { embeddings: tf.Tensor2D; logits: tf.Tensor2D } {
    const pooled = tf.mean(featureMaps, [1, 2]) as tf.Tensor2D;
    return {
      embeddings: temporalMean(pooled, tracklets, frameCount),
      logits: temporalMean(bnneckForward(pooled, context), tracklets, frameCount),
    };
  }

  forwardFromFeatureMaps(
    featureMaps: tf.Tensor4D,
    options: FeatureMapsForwardOptions,
  ): { embeddings: tf.Tensor2D; logits: tf.Tensor2D } {
    this.assertAlive();
    const mode = resolveBatchNormMode({
      training: options?.training ?? false,
      ...(options?.batchNorm ? { batchNorm: options.batchNorm } : {}),
    });
    const frameCount = options?.framesPerTracklet;
    if (!Number.isInteger(frameCount) || frameCount < 1) {
      throw new InvalidOptionError(
        'forwardFromFeatureMaps.options.framesPerTracklet',
        frameCount,
        'Expected the positive integer T of the forward pass that produced the maps.',
      );
    }
    const shape = featureMaps?.shape ?? [];
    if (
      !(featureMaps instanceof tf.Tensor) ||
      featureMaps.rank !== 4 ||
      shape[3] !== this.embeddingDim ||
      (shape[0] as number) % frameCount !== 0
    ) {
      throw new ShapeMismatchError(
        'forwardFromFeatureMaps.featureMaps',
        `[B·T, h, w, ${this.embeddingDim}] with B·T divisible by T=${frameCount}`,
        formatShape(shape),
      );
    }
    return tf.tidy(() => this.head(featureMaps, (shape[0] as number) / frameCount, frameCount, this.context(mode)));
  }

  trainableVariables(): tf.Variable[] {
    this.assertAlive();
    return this.specs.filter((spec) => spec.trainable).map((spec) => this.store.get(spec.name) as tf.Variable);
  }

  variables(): tf.Variable[] {
    this.assertAlive();
    return this.specs.map((spec) => this.store.get(spec.name) as tf.Variable);
  }

  weightSpecs(): readonly WeightSpec[] {
    return this.specs.map(({ name, shape, layout, trainable }) => ({ name, shape: [...shape], layout, trainable }));
  }

  getWeights(): Record<string, tf.Tensor> {
    this.assertAlive();
    const weights: Record<string, tf.Tensor> = {};
    for (const spec of this.specs) weights[spec.name] = tf.clone(this.store.get(spec.name) as tf.Variable);
    return weights;
  }

  setWeights(weights: Record<string, tf.Tensor>): void {
    this.assertAlive();
    const entries = Object.entries(weights);
    for (const [name, value] of entries) {
      const variable = this.store.get(name);
      if (!variable) {
        const example = this.specs[0]?.name ?? '';
        throw new InvalidOptionError(
          'setWeights.weights',
          name,
          `Not a weight of this ${this.config.backbone} model (names are VKD state_dict keys such as "${example}"; see weightSpecs()).`,
        );
      }
      if (!(value instanceof tf.Tensor) || value.dtype !== 'float32') {
        throw new InvalidOptionError(
          `setWeights.weights["${name}"]`,
          value instanceof tf.Tensor ? value.dtype : value,
          'Expected a float32 tf.Tensor.',
        );
      }
      if (!tf.util.arraysEqual(value.shape, variable.shape)) {
        throw new ShapeMismatchError(
          `setWeights.weights["${name}"]`,
          formatShape(variable.shape),
          formatShape(value.shape),
        );
      }
    }
    for (const [name, value] of entries) (this.store.get(name) as tf.Variable).assign(value);
  }

  /** Re-draws the initial values of the given specs; replaces a variable whose shape changed. */
  private reinitialise(specs: ParameterSpec[]): void {
    for (const spec of specs) {
      const variable = this.store.get(spec.name);
      if (variable && tf.util.arraysEqual(variable.shape, spec.shape)) {
        tf.tidy(() => variable.assign(tf.tensor(initialValues(spec, this.random), spec.shape, 'float32')));
      } else {
        variable?.dispose();
        this.store.set(spec.name, createParameterVariable(spec, initialValues(spec, this.random), this.prefix));
      }
    }
  }

  resetHead(numIdentities: number = this.config.numIdentities): void {
    this.assertAlive();
    if (!Number.isInteger(numIdentities) || numIdentities < 1)
      throw new InvalidOptionError('resetHead.numIdentities', numIdentities, 'Expected a positive integer.');
    (this.config as { numIdentities: number }).numIdentities = numIdentities;
    const headSpecs = bnneckSpecs(this.embeddingDim, numIdentities);
    this.specs = [...this.specs.filter((spec) => !spec.name.startsWith(HEAD_PREFIX)), ...headSpecs];
    this.reinitialise(headSpecs);
  }

  reinitialiseLastStage(weights?: Record<string, tf.Tensor>): void {
    this.assertAlive();
    const prefixes = this.network.studentReinitPrefixes;
    const lastStage = this.specs.filter((spec) => prefixes.some((prefix) => spec.name.startsWith(prefix)));
    if (!weights) {
      this.reinitialise(lastStage);
      return;
    }
    const missing = lastStage.filter((spec) => !(spec.name in weights)).map((spec) => spec.name);
    if (missing.length > 0) {
      throw new InvalidOptionError(
        'reinitialiseLastStage.weights',
        `${missing.length} missing`,
        `Missing last-stage (${this.config.backbone}: ${prefixes.join(', ')}) weights such as "${missing[0]}". Pass the getWeights() of a model of the same backbone and baseWidth that holds the ImageNet weights.`,
      );
    }
    this.setWeights(Object.fromEntries(lastStage.map((spec) => [spec.name, weights[spec.name] as tf.Tensor])));
  }

  clone(): ReidModel {
    this.assertAlive();
    const values = new Map<string, tf.Tensor>();
    for (const [name, variable] of this.store) values.set(name, tf.clone(variable));
    try {
      return new VkdReidModel({ ...this.config }, createRandom(this.random.state()), values);
    } finally {
      tf.dispose([...values.values()]);
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const variable of this.store.values()) variable.dispose();
    this.store.clear();
  }
}

/**
 * Builds a VKD Re-ID network with random weights (torchvision init with `zero_init_residual`, BNNeck weight 1,
 * classifier N(0, 0.001²)); import ImageNet or VKD weights with `importTorchWeights`.
 * @throws InvalidOptionError for an unknown backbone, BAM on a BasicBlock net, or bad numbers.
 */
export function createReidModel(options: ReidModelOptions): ReidModel {
  const config = validateReidModelOptions(options);
  return new VkdReidModel(config, createRandom(config.seed));
}
