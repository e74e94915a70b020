/** torchvision `densenet.features` children → the authors' `features_layers` indices (`model/net.py`). */
const FEATURES_INDEX: Record<string, number> = {
  conv0: 0,
  norm0: 1,
  denseblock1: 4,
  transition1: 5,
  denseblock2: 6,
  transition2: 7,
  denseblock3: 8,
  transition3: 9,
  denseblock4: 10,
  norm5: 11,
};

/**
 * torchvision's ImageNet DenseNet files (`densenet121-a639ec97.pth`) predate its module names and spell
 * `denselayer1.norm.1.weight` for `denselayer1.norm1.weight`; torchvision renames them on load (`_load_state_dict`).
 */
const LEGACY_DENSE_LAYER_KEY =
  /^(.*\.denselayer\d+\.(?:norm|relu|conv))\.([12]\.(?:weight|bias|running_mean|running_var))$/;

/**
 * Maps a torchvision DenseNet key (`features.denseblock1.denselayer1.conv1.weight`, legacy `…norm.1.weight` too) to
 * the model's (`backbone.features_layers.4.denselayer1.conv1.weight`); `undefined` for any other key.
 */
export function densenetImagenetKey(key: string): string | undefined {
  const legacy = LEGACY_DENSE_LAYER_KEY.exec(key);
  const name = legacy ? `${legacy[1]}${legacy[2]}` : key;
  const match = /^features\.([a-z]+\d)\.(.+)$/.exec(name);
  const index = match ? FEATURES_INDEX[match[1] as string] : undefined;
  return index === undefined ? undefined : `backbone.features_layers.${index}.${match?.[2]}`;
}
