import { InvalidOptionError } from '@vkd/core';
import {
  backboneChoices,
  checkBackboneAttention,
  getBackbone,
  resolveBackboneName,
} from './backbones/backbone-registry';

/**
 * A name of the backbone registry (`resnet18`, `resnet34`, `resnet50`, `resnet101`, `densenet121`, `mobilenet` or a
 * registered one); options also accept aliases (`resnet50bam`, `resnet101bam`), which configs store resolved.
 */
export type BackboneName = string;

/** `'bam'` adds the Bottleneck Attention Module after stages 1–3 (VKD's `resnet50bam` / `resnet101bam`). */
export type AttentionName = 'none' | 'bam';

/** Every {@link AttentionName}; which backbone supports which is `Backbone.attention`. */
export const ATTENTION_NAMES: readonly AttentionName[] = ['none', 'bam'];

/** Options of {@link createReidModel}. Defaults follow the VKD authors. */
export interface ReidModelOptions {
  backbone: BackboneName;
  /** Default `'none'`; `'bam'` only where the backbone lists it (`getBackbone(name).attention`: resnet50, resnet101). */
  attention?: AttentionName;
  /** Number of training identities I (classifier outputs). */
  numIdentities: number;
  /**
   * Stride of the last downsampling stage, default the backbone's first `lastStrides` value: 1 (output stride 16), as
   * the authors, for the ResNets (layer4) and MobileNet (features[14]); DenseNet accepts only 2 (output stride 32).
   */
  lastStride?: 1 | 2;
  /**
   * Remove the last activations, as the authors (default true): every ReLU of the last layer4 block (ResNet:
   * `layer4[-1].relu = Sequential()`), the final ReLU6 (MobileNet), torchvision's ReLU after norm5 (DenseNet).
   */
  removeLastBlockReLU?: boolean;
  /**
   * Width, default 64 = the real network; e.g. 16 or 8 for narrow test/demo nets. ResNet: channels of the stem and
   * stage 1; DenseNet: initial features (growth rate baseWidth / 2, even only); MobileNet: width multiplier
   * baseWidth / 64.
   */
  baseWidth?: number;
  /** Seed of the random initialisation (default 0). */
  seed?: number;
}

/** The fully resolved, JSON-serialisable configuration of a model. */
export interface ReidModelConfig {
  backbone: BackboneName;
  attention: AttentionName;
  numIdentities: number;
  lastStride: 1 | 2;
  removeLastBlockReLU: boolean;
  baseWidth: number;
  seed: number;
}

function positiveInteger(option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new InvalidOptionError(option, value, 'Expected a positive integer.');
  }
  return value;
}

/**
 * Fills defaults and range-checks {@link ReidModelOptions}.
 * @throws InvalidOptionError naming the option and the accepted values.
 */
export function validateReidModelOptions(options: ReidModelOptions): ReidModelConfig {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionError(
      'createReidModel.options',
      options,
      'Pass an object such as { backbone: "resnet50", numIdentities: 625 }.',
    );
  }
  const names = backboneChoices();
  if (typeof options.backbone !== 'string' || !names.includes(options.backbone)) {
    const expected = names.map((name) => `"${name}"`).join(', ');
    throw new InvalidOptionError('backbone', options.backbone, `Expected one of ${expected}.`);
  }
  if (options.attention !== undefined && !ATTENTION_NAMES.includes(options.attention)) {
    const expected = ATTENTION_NAMES.map((name) => `"${name}"`).join(' or ');
    throw new InvalidOptionError('attention', options.attention, `Expected ${expected}.`);
  }
  // The authors' combined names (resnet50bam) resolve to the backbone and its attention.
  const { backbone, attention } = resolveBackboneName(options.backbone, options.attention);
  checkBackboneAttention(backbone, attention);
  const lastStrides = getBackbone(backbone).lastStrides ?? [1, 2];
  const lastStride = options.lastStride ?? lastStrides[0] ?? 1;
  if (!(lastStrides as readonly unknown[]).includes(lastStride)) {
    const meaning = (stride: number) => `${stride}${stride === 1 ? ' (VKD default)' : ' (torchvision)'}`;
    const expected = lastStrides.map(meaning).join(' or ');
    throw new InvalidOptionError('lastStride', lastStride, `Expected ${expected} for ${backbone}.`);
  }
  const removeLastBlockReLU = options.removeLastBlockReLU ?? true;
  if (typeof removeLastBlockReLU !== 'boolean')
    throw new InvalidOptionError('removeLastBlockReLU', removeLastBlockReLU, 'Expected a boolean.');
  const baseWidth = positiveInteger('baseWidth', options.baseWidth ?? 64);
  if (attention === 'bam' && baseWidth < 4) {
    throw new InvalidOptionError(
      'baseWidth',
      baseWidth,
      'BAM reduces stage-1 channels (4·baseWidth) by 16, so baseWidth must be at least 4.',
    );
  }
  const seed = options.seed ?? 0;
  if (typeof seed !== 'number' || !Number.isInteger(seed))
    throw new InvalidOptionError('seed', seed, 'Expected an integer.');
  return {
    backbone,
    attention,
    numIdentities: positiveInteger('numIdentities', options.numIdentities),
    lastStride,
    removeLastBlockReLU,
    baseWidth,
    seed,
  };
}
