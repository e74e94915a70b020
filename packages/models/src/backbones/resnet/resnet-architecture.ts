import * as tf from '@tensorflow/tfjs-core';
import { convUnit as unit, unitForward, unitSpecs, type ConvUnit, type ForwardContext } from '../../layers/conv-unit';
import type { ParameterSpec } from '../../parameters';
import type { ReidModelConfig } from '../../model-options';
import { bamForward, bamSpecs } from '../../attention/bam';
import { legacyTrainingMemory } from '../../layers/training-memory';
import { recomputedStageTraining, residualBlockTraining } from './residual-training';

/** A torchvision BasicBlock (2 units) or Bottleneck (3 units, v1.5: stride on the 3×3). */
export interface ResidualBlock {
  units: ConvUnit[];
  downsample?: ConvUnit;
  /** False for the last layer4 block when `removeLastBlockReLU` (VKD removes its shared ReLU module). */
  relu: boolean;
}

export interface ResnetStage {
  blocks: ResidualBlock[];
  /** Prefix of the BAM module appended to the stage (VKD's `layerN.bam`), if any. */
  bam?: { prefix: string; channels: number };
}

/** The whole backbone: stem (conv1, bn1, ReLU, 3×3/2 max-pool) and layer1–4, with VKD key names. */
export interface ResnetArchitecture {
  stem: ConvUnit;
  stages: ResnetStage[];
  /** Output channels D of layer4 (the embedding dimension). */
  outChannels: number;
}

/** Block type and blocks per stage of one ResNet depth (torchvision `resnet18` … `resnet101`). */
export interface ResnetDepth {
  readonly bottleneck: boolean;
  readonly blocks: readonly [number, number, number, number];
}

/** Key prefix of stage `index` (1–4) in the VKD checkpoint: `backbone.features_layers.<index>.0`. */
export function stagePrefix(index: number): string {
  return `backbone.features_layers.${index}.0`;
}

/** Builds the layer list of a (narrow, if `baseWidth` < 64) VKD ResNet. */
export function resnetArchitecture(config: ReidModelConfig, depth: ResnetDepth): ResnetArchitecture {
  const { bottleneck, blocks } = depth;
  const expansion = bottleneck ? 4 : 1;
  const width = config.baseWidth;
  const stem = unit('backbone.features_layers.0.0', 'backbone.features_layers.0.1', 7, 2, 3, width);
  let inChannels = width;
  const stages = blocks.map((count, stageIndex): ResnetStage => {
    const planes = width * 2 ** stageIndex;
    const stageStride = stageIndex === 0 ? 1 : stageIndex === 3 ? config.lastStride : 2;
    const prefix = stagePrefix(stageIndex + 1);
    const stageBlocks = Array.from({ length: count }, (_, blockIndex): ResidualBlock => {
      const stride = blockIndex === 0 ? stageStride : 1;
      const name = `${prefix}.${blockIndex}`;
      const outChannels = planes * expansion;
      const units = bottleneck
        ? [
            unit(`${name}.conv1`, `${name}.bn1`, 1, 1, inChannels, planes),
            unit(`${name}.conv2`, `${name}.bn2`, 3, stride, planes, planes),
            unit(`${name}.conv3`, `${name}.bn3`, 1, 1, planes, outChannels),
          ]
        : [
            unit(`${name}.conv1`, `${name}.bn1`, 3, stride, inChannels, planes),
            unit(`${name}.conv2`, `${name}.bn2`, 3, 1, planes, planes),
          ];
      const downsample =
        stride !== 1 || inChannels !== outChannels
          ? unit(`${name}.downsample.0`, `${name}.downsample.1`, 1, stride, inChannels, outChannels)
          : undefined;
      inChannels = outChannels;
      const isLastBlock = stageIndex === 3 && blockIndex === count - 1;
      return { units, ...(downsample ? { downsample } : {}), relu: !(isLastBlock && config.removeLastBlockReLU) };
    });
    const withBam = config.attention === 'bam' && stageIndex < 3;
    return { blocks: stageBlocks, ...(withBam ? { bam: { prefix: `${prefix}.bam`, channels: inChannels } } : {}) };
  });
  return { stem, stages, outChannels: inChannels };
}

/**
 * Parameter specs of the backbone in state_dict order. Init as torchvision with `zero_init_residual=True` (VKD):
 * kaiming-normal (fan-out) convs, BN weight 1 / bias 0, and weight 0 for the last BN of every residual branch.
 */
export function resnetSpecs(architecture: ResnetArchitecture): ParameterSpec[] {
  const specs = unitSpecs(architecture.stem);
  for (const stage of architecture.stages) {
    for (const block of stage.blocks) {
      block.units.forEach((blockUnit, index) =>
        specs.push(...unitSpecs(blockUnit, index === block.units.length - 1 ? 0 : 1)),
      );
      if (block.downsample) specs.push(...unitSpecs(block.downsample));
    }
    if (stage.bam) specs.push(...bamSpecs(stage.bam.prefix, stage.bam.channels));
  }
  return specs;
}

/** A residual block; its last unit also does the residual add and the block's ReLU (one op in training). */
function blockForward(x: tf.Tensor4D, block: ResidualBlock, context: ForwardContext): tf.Tensor4D {
  const shortcut = block.downsample ? unitForward(x, block.downsample, context, { relu: false }) : x;
  const last = block.units.length - 1;
  let out = x;
  block.units.forEach((blockUnit, index) => {
    out = unitForward(out, blockUnit, context, index < last ? { relu: block.relu } : { relu: block.relu, shortcut });
  });
  return out;
}

/**
 * The backbone on a batch of frames (call inside `tf.tidy`).
 * @param images [N, H, W, 3], ImageNet-normalised RGB.
 * @returns layer4 feature maps [N, ⌈H/16⌉-ish, ⌈W/16⌉-ish, D] (output stride 16 with last stride 1).
 */
export function resnetForward(
  images: tf.Tensor4D,
  architecture: ResnetArchitecture,
  context: ForwardContext,
): tf.Tensor4D {
  const stem = unitForward(images, architecture.stem, context, { relu: true, inputIsData: true });
  // PyTorch MaxPool2d(3, 2, padding=1): symmetric padding, floor rounding.
  let x = tf.maxPool(stem, 3, 2, 1, 'floor');
  // Training with a tape: blocks (or, with `recompute`, whole stages) as custom ops that free memory as they go.
  const custom = context.mode !== 'moving' && tf.engine().isTapeOn() && !legacyTrainingMemory();
  const update = context.mode === 'batch-update';
  for (const stage of architecture.stages) {
    if (custom && context.recompute) x = recomputedStageTraining(x, stage.blocks, context, update);
    else if (custom) for (const block of stage.blocks) x = residualBlockTraining(x, block, context, update);
    else for (const block of stage.blocks) x = blockForward(x, block, context);
    if (stage.bam) x = bamForward(x, stage.bam.prefix, context);
  }
  return x;
}
