import { convUnit, type ConvUnit } from '../../layers/conv-unit';
import { batchNormSpecs, convSpecs, type ParameterInit, type ParameterSpec } from '../../parameters';

/** DenseNet-121's layers per dense block (torchvision `densenet121`, `block_config=(6, 12, 24, 16)`). */
export const DENSENET121_BLOCKS = [6, 12, 24, 16] as const;
/** Bottleneck width factor of every dense layer: its 1×1 conv has `BN_SIZE · growthRate` outputs (torchvision 4). */
const BN_SIZE = 4;

/** Key of `features_layers[index]`: the authors keep the children of torchvision's `densenet.features` in order. */
function featuresLayer(index: number): string {
  return `backbone.features_layers.${index}`;
}

/** One dense layer: norm1 → ReLU → conv1 (1×1) → norm2 → ReLU → conv2 (3×3), its output concatenated to its input. */
export interface DenseLayer {
  /** `…features_layers.<block>.denselayer<n>` */
  prefix: string;
  inChannels: number;
}

/** A transition: norm → ReLU → conv (1×1, halves the channels) → 2×2 average pool, stride 2. */
export interface Transition {
  prefix: string;
  inChannels: number;
  outChannels: number;
}

/** torchvision's `densenet.features` as the authors use it: no ReLU after norm5 (unless asked), output stride 32. */
export interface DensenetArchitecture {
  /** conv0 (7×7, stride 2) + norm0 (+ relu0), followed by pool0 (3×3 max-pool, stride 2). */
  stem: ConvUnit;
  blocks: { prefix: string; layers: DenseLayer[] }[];
  /** After blocks 1–3. */
  transitions: Transition[];
  growthRate: number;
  /** Channels of every dense layer's 1×1 conv output. */
  bottleneckChannels: number;
  /** `norm5`, the last module. */
  finalNorm: string;
  /** torchvision's `F.relu` after `features` (the authors drop it: `removeFinalReLU` true). */
  finalReLU: boolean;
  /** D = channels of norm5 (1024 for densenet121). */
  outChannels: number;
}

/**
 * The layer list of a DenseNet-121 of width `baseWidth`: `num_init_features = baseWidth`, growth rate `baseWidth / 2`
 * (64 and 32 for the real densenet121, whose `features` children are `features_layers.0..11`: conv0, norm0, relu0,
 * pool0, denseblock1, transition1, …, denseblock4, norm5).
 */
export function densenetArchitecture(baseWidth: number, removeFinalReLU: boolean): DensenetArchitecture {
  const growthRate = baseWidth / 2;
  const bottleneckChannels = BN_SIZE * growthRate;
  const stem = convUnit(`${featuresLayer(0)}`, `${featuresLayer(1)}`, 7, 2, 3, baseWidth);
  let channels = baseWidth;
  const blocks: DensenetArchitecture['blocks'] = [];
  const transitions: Transition[] = [];
  DENSENET121_BLOCKS.forEach((count, blockIndex) => {
    const prefix = featuresLayer(4 + 2 * blockIndex);
    const layers = Array.from(
      { length: count },
      (_, layerIndex): DenseLayer => ({
        prefix: `${prefix}.denselayer${layerIndex + 1}`,
        inChannels: channels + layerIndex * growthRate,
      }),
    );
    blocks.push({ prefix, layers });
    channels += count * growthRate;
    if (blockIndex < DENSENET121_BLOCKS.length - 1) {
      transitions.push({
        prefix: featuresLayer(5 + 2 * blockIndex),
        inChannels: channels,
        outChannels: Math.floor(channels / 2),
      });
      channels = Math.floor(channels / 2);
    }
  });
  return {
    stem,
    blocks,
    transitions,
    growthRate,
    bottleneckChannels,
    finalNorm: featuresLayer(11),
    finalReLU: !removeFinalReLU,
    outChannels: channels,
  };
}

/** torchvision DenseNet init: convs `kaiming_normal_` (fan-in), BN weight 1, bias 0. */
const FAN_IN: ParameterInit = { kind: 'kaiming-normal-fan-in' };

/** Parameter specs of the DenseNet in state_dict order (conv0, norm0, each dense layer, each transition, norm5). */
export function densenetSpecs(architecture: DensenetArchitecture): ParameterSpec[] {
  const { stem, bottleneckChannels, growthRate } = architecture;
  const specs = [
    ...convSpecs(stem.conv, 7, 3, stem.outChannels, false, FAN_IN),
    ...batchNormSpecs(stem.bn, stem.outChannels),
  ];
  architecture.blocks.forEach((block, blockIndex) => {
    for (const layer of block.layers) {
      specs.push(
        ...batchNormSpecs(`${layer.prefix}.norm1`, layer.inChannels),
        ...convSpecs(`${layer.prefix}.conv1`, 1, layer.inChannels, bottleneckChannels, false, FAN_IN),
        ...batchNormSpecs(`${layer.prefix}.norm2`, bottleneckChannels),
        ...convSpecs(`${layer.prefix}.conv2`, 3, bottleneckChannels, growthRate, false, FAN_IN),
      );
    }
    const transition = architecture.transitions[blockIndex];
    if (transition) {
      specs.push(
        ...batchNormSpecs(`${transition.prefix}.norm`, transition.inChannels),
        ...convSpecs(`${transition.prefix}.conv`, 1, transition.inChannels, transition.outChannels, false, FAN_IN),
      );
    }
  });
  specs.push(...batchNormSpecs(architecture.finalNorm, architecture.outChannels));
  return specs;
}
