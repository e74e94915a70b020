import type * as tf from '@tensorflow/tfjs-core';
import type { ForwardContext } from '../layers/conv-unit';
import type { AttentionName, ReidModelConfig } from '../model-options';
import type { ParameterSpec } from '../parameters';

/**
 * One built backbone network (a config's layer list): everything `createReidModel` needs from a backbone family.
 * Parameter names are the VKD authors' `state_dict` keys (`backbone.features_layers.<stage>.…`), so checkpoints of
 * `aimagelab/VKD` import without renaming.
 */
export interface BackboneNetwork {
  /** D: channels of the last feature map (the embedding dimension). */
  readonly outChannels: number;
  /** Every backbone weight in `state_dict` order, with shape, layout and initialisation. */
  readonly specs: readonly ParameterSpec[];
  /** Key prefix of each stage, stem first (VKD's `backbone.features_layers.<index>`), e.g. for Grad-CAM or docs. */
  readonly stageNames: readonly string[];
  /**
   * Key prefixes of the weights the VKD student re-initialises (`TriNet.reinit_layers`: ResNet layer4, DenseNet
   * denseblock4); empty when the authors re-initialise nothing (MobileNet).
   */
  readonly studentReinitPrefixes: readonly string[];
  /**
   * The backbone on a batch of frames (synchronous; called inside `tf.tidy`).
   * @param images [N, H, W, 3], ImageNet-normalised RGB. @returns the last feature maps [N, h, w, outChannels].
   */
  forward(images: tf.Tensor4D, context: ForwardContext): tf.Tensor4D;
}

/**
 * A backbone of the registry (`registerBackbone`): a name, what it supports, how to build it, and how its ImageNet
 * (torchvision / timm) weight names map onto the model's names. One folder per family under `src/backbones/`.
 */
export interface Backbone {
  /** Name used in options and saved configs, e.g. `'resnet50'`. */
  readonly name: string;
  /** Family folder, e.g. `'resnet'`. */
  readonly family: string;
  /** One line for help texts, e.g. `'ResNet-50 (Bottleneck), D = 2048'`. */
  readonly description: string;
  /** Attention modules defined on it (VKD: BAM on the Bottleneck ResNets only); always contains `'none'`. */
  readonly attention: readonly AttentionName[];
  /**
   * Other names of this backbone, each with the attention it implies: the authors' `resnet50bam` is `resnet50` with
   * `attention: 'bam'`. Options and the CLI accept them; saved configs hold the backbone's own name.
   */
  readonly aliases?: Readonly<Record<string, AttentionName>>;
  /**
   * The `lastStride` values it accepts, the default first; `[1, 2]` when omitted (VKD's 1, torchvision's 2). DenseNet,
   * whose output stride the authors leave at 32, accepts only 2.
   */
  readonly lastStrides?: readonly (1 | 2)[];
  /** Key prefixes of the ImageNet classifier in its torchvision / timm files, skipped on import (ResNet `fc.`). */
  readonly imagenetHeadPrefixes?: readonly string[];
  /** The layer list of a validated model config (`baseWidth`, `lastStride`, `attention`, …). */
  build(config: ReidModelConfig): BackboneNetwork;
  /**
   * Maps a key of an ImageNet `state_dict` (torchvision / timm naming, `module.` already stripped) to the model's
   * key; `undefined` when the key is not one of this backbone's (the importer reports it as unexpected).
   */
  imagenetKey(key: string): string | undefined;
  /** Whether an ImageNet file holds this model weight (false for modules VKD adds untrained, e.g. BAM). */
  inImagenetWeights(name: string): boolean;
}
