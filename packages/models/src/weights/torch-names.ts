/** Naming schemes of PyTorch ResNet state_dicts that {@link importTorchWeights} understands. */
export type TorchWeightsFormat = 'torchvision' | 'timm' | 'vkd';

export const TORCH_WEIGHTS_FORMATS: readonly TorchWeightsFormat[] = ['torchvision', 'timm', 'vkd'];

/** torchvision / timm ResNet prefixes → VKD `TriNet` prefixes (`model/net.py` L99-108 of aimagelab/VKD). */
const TORCHVISION_PREFIXES: ReadonlyArray<[string, string]> = [
  ['conv1.', 'backbone.features_layers.0.0.'],
  ['bn1.', 'backbone.features_layers.0.1.'],
  ['layer1.', 'backbone.features_layers.1.0.'],
  ['layer2.', 'backbone.features_layers.2.0.'],
  ['layer3.', 'backbone.features_layers.3.0.'],
  ['layer4.', 'backbone.features_layers.4.0.'],
];

/** What a source key means for the model: a model weight, or a known key with no counterpart (ImageNet head, counters). */
export type MappedKey = { kind: 'weight'; name: string } | { kind: 'ignored' } | { kind: 'unknown' };

/**
 * Maps one source key to a VKD state_dict key. A leading `module.` (DataParallel) is dropped; `num_batches_tracked`
 * is ignored in every format, the ImageNet classifier `fc.*` in torchvision / timm files.
 */
export function mapTorchKey(key: string, format: TorchWeightsFormat): MappedKey {
  const name = key.startsWith('module.') ? key.slice('module.'.length) : key;
  if (name.endsWith('.num_batches_tracked')) return { kind: 'ignored' };
  if (format === 'vkd') return { kind: 'weight', name };
  if (name.startsWith('fc.')) return { kind: 'ignored' };
  for (const [from, to] of TORCHVISION_PREFIXES) {
    if (name.startsWith(from)) return { kind: 'weight', name: to + name.slice(from.length) };
  }
  return { kind: 'unknown' };
}

/** Guesses the format from the keys: VKD checkpoints have `backbone.features_layers.*` / `classifier.*` keys. */
export function detectTorchFormat(keys: readonly string[]): TorchWeightsFormat {
  const stripped = keys.map((key) => (key.startsWith('module.') ? key.slice('module.'.length) : key));
  return stripped.some((key) => key.startsWith('backbone.features_layers.') || key.startsWith('classifier.')) ? 'vkd' : 'torchvision';
}

/**
 * Whether a model weight is expected in a source of this format: ImageNet (torchvision / timm) files hold neither
 * the Re-ID head nor BAM (VKD's BAM modules are not ImageNet-pretrained, `resnet_bam.py` L216-220).
 */
export function isProvidedBy(format: TorchWeightsFormat, name: string): boolean {
  if (format === 'vkd') return true;
  return !name.startsWith('classifier.') && !name.includes('.bam.');
}

/**
 * Whether an ImageNet backbone (torchvision / timm file, or a model directory imported from one) holds this model
 * weight: every backbone weight except the modules VKD adds untrained (BAM); never the Re-ID head. Used to start a
 * model from ImageNet (`vkd train-teacher --imagenet-weights`, as the authors' `--pretrained True`).
 */
export function isImagenetWeight(name: string): boolean {
  return isProvidedBy('torchvision', name);
}
