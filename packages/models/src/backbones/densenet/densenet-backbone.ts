import { InvalidOptionError } from '@vkd/core';
import type { ReidModelConfig } from '../../model-options';
import type { Backbone, BackboneNetwork } from '../backbone';
import { densenetArchitecture, densenetSpecs } from './densenet-architecture';
import { densenetForward } from './densenet-forward';
import { densenetImagenetKey } from './densenet-torch-names';

/** `features_layers` entries that hold weights: conv0, norm0, denseblock1, transition1, …, denseblock4, norm5. */
const WEIGHTED_LAYERS = [0, 1, 4, 5, 6, 7, 8, 9, 10, 11];
/** denseblock4 = `features_layers[-2]`, which the authors' student reloads from ImageNet (`reinit_layers`). */
const DENSEBLOCK4 = 'backbone.features_layers.10.';

function densenetNetwork(config: ReidModelConfig): BackboneNetwork {
  if (config.baseWidth % 2 !== 0) {
    throw new InvalidOptionError(
      'baseWidth',
      config.baseWidth,
      'DenseNet-121 needs an even baseWidth (its growth rate is baseWidth / 2; 64 = densenet121).',
    );
  }
  const architecture = densenetArchitecture(config.baseWidth, config.removeLastBlockReLU);
  return {
    outChannels: architecture.outChannels,
    specs: densenetSpecs(architecture),
    stageNames: WEIGHTED_LAYERS.map((index) => `backbone.features_layers.${index}`),
    studentReinitPrefixes: [DENSEBLOCK4],
    forward: (images, context) => densenetForward(images, architecture, context),
  };
}

/**
 * VKD's `densenet121` (`model/net.py` `get_denset_backbone_layers`): torchvision's `densenet121().features` unchanged
 * (no final ReLU: `removeLastBlockReLU` false restores torchvision's `F.relu`), output stride 32, D = 16·baseWidth.
 */
export const DENSENET121_BACKBONE: Backbone = Object.freeze({
  name: 'densenet121',
  family: 'densenet',
  description: 'DenseNet-121 (torchvision features, output stride 32), D = 16·baseWidth',
  attention: ['none'] as const,
  lastStrides: [2] as const,
  imagenetHeadPrefixes: ['classifier.'] as const,
  build: densenetNetwork,
  imagenetKey: densenetImagenetKey,
  inImagenetWeights: (name: string) => name.startsWith('backbone.'),
});
