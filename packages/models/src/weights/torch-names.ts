import type { Backbone } from '../backbones/backbone';
import { getBackbone } from '../backbones/backbone-registry';

/** Naming schemes of PyTorch state_dicts that {@link importTorchWeights} understands. */
export type TorchWeightsFormat = 'torchvision' | 'timm' | 'vkd';

/** Every PyTorch key-naming scheme `importTorchWeights` understands. */
export const TORCH_WEIGHTS_FORMATS: readonly TorchWeightsFormat[] = ['torchvision', 'timm', 'vkd'];

/** What a source key means for the model: a model weight, or a known key with no counterpart (ImageNet head, counters). */
export type MappedKey = { kind: 'weight'; name: string } | { kind: 'ignored' } | { kind: 'unknown' };

/**
 * Maps one source key to a VKD state_dict key. A leading `module.` (DataParallel) is dropped; `num_batches_tracked`
 * is ignored in every format, the ImageNet classifier (`Backbone.imagenetHeadPrefixes`: ResNet `fc.*`, DenseNet /
 * MobileNet `classifier.*`) in torchvision / timm files; other ImageNet keys are renamed by the backbone
 * (`Backbone.imagenetKey`).
 */
export function mapTorchKey(key: string, format: TorchWeightsFormat, backbone: Backbone): MappedKey {
  const name = key.startsWith('module.') ? key.slice('module.'.length) : key;
  if (name.endsWith('.num_batches_tracked')) return { kind: 'ignored' };
  if (format === 'vkd') return { kind: 'weight', name };
  if (backbone.imagenetHeadPrefixes?.some((prefix) => name.startsWith(prefix))) return { kind: 'ignored' };
  const mapped = backbone.imagenetKey(name);
  return mapped === undefined ? { kind: 'unknown' } : { kind: 'weight', name: mapped };
}

/** Key prefixes only VKD `TriNet` checkpoints have (torchvision DenseNet / MobileNet files also have `classifier.*`). */
const VKD_KEY_PREFIXES = ['backbone.features_layers.', 'classifier.bottleneck.', 'classifier.classifier.'];

/** Guesses the format from the keys: VKD checkpoints have `backbone.features_layers.*` / BNNeck head keys. */
export function detectTorchFormat(keys: readonly string[]): TorchWeightsFormat {
  const stripped = keys.map((key) => (key.startsWith('module.') ? key.slice('module.'.length) : key));
  return stripped.some((key) => VKD_KEY_PREFIXES.some((prefix) => key.startsWith(prefix))) ? 'vkd' : 'torchvision';
}

/**
 * Whether a model weight is expected in a source of this format: ImageNet (torchvision / timm) files hold neither
 * the Re-ID head nor what the backbone says they lack (`Backbone.inImagenetWeights`, e.g. BAM).
 */
export function isProvidedBy(format: TorchWeightsFormat, name: string, backbone: Backbone): boolean {
  if (format === 'vkd') return true;
  return !name.startsWith('classifier.') && backbone.inImagenetWeights(name);
}

/**
 * Whether an ImageNet backbone (torchvision / timm file, or a model directory imported from one) holds this model
 * weight: every backbone weight except the modules VKD adds untrained (BAM); never the Re-ID head. Used to start a
 * model from ImageNet (`vkd train-teacher --imagenet-weights`, as the authors' `--pretrained True`).
 * @param backbone the model's backbone name (its registry entry decides, `Backbone.inImagenetWeights`).
 */
export function isImagenetWeight(name: string, backbone: string): boolean {
  return isProvidedBy('torchvision', name, getBackbone(backbone));
}
