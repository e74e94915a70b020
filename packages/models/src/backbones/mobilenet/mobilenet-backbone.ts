import type { ReidModelConfig } from '../../model-options';
import type { Backbone, BackboneNetwork } from '../backbone';
import { mobilenetArchitecture, mobilenetSpecs } from './mobilenet-architecture';
import { mobilenetForward } from './mobilenet-forward';

function mobilenetNetwork(config: ReidModelConfig): BackboneNetwork {
  const architecture = mobilenetArchitecture(config.baseWidth, config.lastStride, config.removeLastBlockReLU);
  return {
    outChannels: architecture.outChannels,
    specs: mobilenetSpecs(architecture),
    stageNames: Array.from(
      { length: architecture.blocks.length + 2 },
      (_, index) => `backbone.features_layers.${index}`,
    ),
    // The authors' student re-initialises nothing of a MobileNet backbone, only the head (`reinit_layers`).
    studentReinitPrefixes: [],
    forward: (images, context) => mobilenetForward(images, architecture, context),
  };
}

/** torchvision MobileNet-V2 key `features.<i>.…` → `backbone.features_layers.<i>.…` (the authors keep the order). */
function mobilenetImagenetKey(key: string): string | undefined {
  return key.startsWith('features.') ? `backbone.features_layers.${key.slice('features.'.length)}` : undefined;
}

/**
 * VKD's `mobilenet` (`model/net.py` `get_mobilenet_backbone_layers`): MobileNet-V2 `features` (torch.hub
 * `pytorch/vision:v0.5.0`), the depthwise conv of features[14] at stride `lastStride` (1: output stride 16) and the
 * final ReLU6 removed (`removeLastBlockReLU`); width multiplier baseWidth / 64; D = 1280.
 */
export const MOBILENET_BACKBONE: Backbone = Object.freeze({
  name: 'mobilenet',
  family: 'mobilenet',
  description: 'MobileNet-V2 (stride 1 in features[14], no final ReLU6), D = 1280',
  attention: ['none'] as const,
  lastStrides: [1, 2] as const,
  imagenetHeadPrefixes: ['classifier.'] as const,
  build: mobilenetNetwork,
  imagenetKey: mobilenetImagenetKey,
  inImagenetWeights: (name: string) => name.startsWith('backbone.'),
});
