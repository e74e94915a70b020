import { InvalidOptionError } from '@vkd/core';
import { backboneNames, checkBackboneAttention } from './backbones/backbone-registry';

/** A name of the backbone registry: `'resnet18' | 'resnet34' | 'resnet50' | 'resnet101'` or a registered one. */
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
  /** Stride of layer4; default 1 (output stride 16), as the authors. */
  lastStride?: 1 | 2;
  /** Remove every ReLU of the last layer4 block (default true, as the authors: `layer4[-1].relu = Sequential()`). */
  removeLastBlockReLU?: boolean;
  /** Channels of the stem and of stage 1 (default 64 = the real ResNets); e.g. 16 or 8 for narrow test/demo nets. */
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
    throw new InvalidOptionError('createReidModel.options', options, 'Pass an object such as { backbone: "resnet50", numIdentities: 625 }.');
  }
  const { backbone } = options;
  const names = backboneNames();
  if (typeof backbone !== 'string' || !names.includes(backbone)) {
    throw new InvalidOptionError('backbone', backbone, `Expected one of ${names.map((name) => `"${name}"`).join(', ')}.`);
  }
  const attention = options.attention ?? 'none';
  if (!ATTENTION_NAMES.includes(attention)) {
    throw new InvalidOptionError('attention', attention, `Expected ${ATTENTION_NAMES.map((name) => `"${name}"`).join(' or ')}.`);
  }
  checkBackboneAttention(backbone, attention);
  const lastStride = options.lastStride ?? 1;
  if (lastStride !== 1 && lastStride !== 2) throw new InvalidOptionError('lastStride', lastStride, 'Expected 1 (VKD default) or 2 (torchvision).');
  const removeLastBlockReLU = options.removeLastBlockReLU ?? true;
  if (typeof removeLastBlockReLU !== 'boolean') throw new InvalidOptionError('removeLastBlockReLU', removeLastBlockReLU, 'Expected a boolean.');
  const baseWidth = positiveInteger('baseWidth', options.baseWidth ?? 64);
  if (attention === 'bam' && baseWidth < 4) {
    throw new InvalidOptionError('baseWidth', baseWidth, 'BAM reduces stage-1 channels (4·baseWidth) by 16, so baseWidth must be at least 4.');
  }
  const seed = options.seed ?? 0;
  if (typeof seed !== 'number' || !Number.isInteger(seed)) throw new InvalidOptionError('seed', seed, 'Expected an integer.');
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
