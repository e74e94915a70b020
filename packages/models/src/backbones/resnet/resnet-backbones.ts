import type { AttentionName, ReidModelConfig } from '../../model-options';
import type { Backbone, BackboneNetwork } from '../backbone';
import { resnetArchitecture, resnetForward, resnetSpecs, stagePrefix, type ResnetDepth } from './resnet-architecture';
import { resnetImagenetKey, resnetInImagenetWeights } from './resnet-torch-names';

/** The ResNet of `depth` as a {@link BackboneNetwork}; the student re-initialises layer4 (VKD `reinit_l4`). */
function resnetNetwork(config: ReidModelConfig, depth: ResnetDepth): BackboneNetwork {
  const architecture = resnetArchitecture(config, depth);
  return {
    outChannels: architecture.outChannels,
    specs: resnetSpecs(architecture),
    stageNames: [0, 1, 2, 3, 4].map((index) => `backbone.features_layers.${index}`),
    studentReinitPrefixes: [`${stagePrefix(4)}.`],
    forward: (images, context) => resnetForward(images, architecture, context),
  };
}

function resnet(
  name: string,
  depth: ResnetDepth,
  description: string,
  attention: readonly AttentionName[],
  aliases: Readonly<Record<string, AttentionName>> = {},
): Backbone {
  return Object.freeze({
    name,
    family: 'resnet',
    description,
    attention,
    aliases,
    imagenetHeadPrefixes: ['fc.'],
    build: (config: ReidModelConfig) => resnetNetwork(config, depth),
    imagenetKey: resnetImagenetKey,
    inImagenetWeights: resnetInImagenetWeights,
  });
}

/**
 * The ResNets of VKD (`model/net.py`): torchvision depths with last stride 1 and no ReLU in the last block; BAM
 * (`attention: 'bam'`) is defined on the Bottleneck nets only, as `resnet50_bam` / `resnet101_bam`; the authors'
 * names `resnet50bam` / `resnet101bam` are aliases of `resnet50` / `resnet101` with BAM.
 */
export const RESNET_BACKBONES: readonly Backbone[] = [
  resnet('resnet18', { bottleneck: false, blocks: [2, 2, 2, 2] }, 'ResNet-18 (BasicBlock), D = 8·baseWidth', ['none']),
  resnet('resnet34', { bottleneck: false, blocks: [3, 4, 6, 3] }, 'ResNet-34 (BasicBlock), D = 8·baseWidth', ['none']),
  resnet(
    'resnet50',
    { bottleneck: true, blocks: [3, 4, 6, 3] },
    'ResNet-50 (Bottleneck), D = 32·baseWidth',
    ['none', 'bam'],
    { resnet50bam: 'bam' },
  ),
  resnet(
    'resnet101',
    { bottleneck: true, blocks: [3, 4, 23, 3] },
    'ResNet-101 (Bottleneck), D = 32·baseWidth',
    ['none', 'bam'],
    { resnet101bam: 'bam' },
  ),
];
