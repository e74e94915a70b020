/** torchvision / timm ResNet prefixes → VKD `TriNet` prefixes (`model/net.py` L99-108 of aimagelab/VKD). */
const TORCHVISION_PREFIXES: ReadonlyArray<readonly [string, string]> = [
  ['conv1.', 'backbone.features_layers.0.0.'],
  ['bn1.', 'backbone.features_layers.0.1.'],
  ['layer1.', 'backbone.features_layers.1.0.'],
  ['layer2.', 'backbone.features_layers.2.0.'],
  ['layer3.', 'backbone.features_layers.3.0.'],
  ['layer4.', 'backbone.features_layers.4.0.'],
];

/** A torchvision / timm ResNet key (`layer2.0.conv1.weight`) → the VKD key, or undefined for a foreign key. */
export function resnetImagenetKey(key: string): string | undefined {
  for (const [from, to] of TORCHVISION_PREFIXES) {
    if (key.startsWith(from)) return to + key.slice(from.length);
  }
  return undefined;
}

/** ImageNet ResNets hold every backbone weight but BAM's (VKD's BAM is not pretrained, `resnet_bam.py` L216-220). */
export function resnetInImagenetWeights(name: string): boolean {
  return name.startsWith('backbone.') && !name.includes('.bam.');
}
