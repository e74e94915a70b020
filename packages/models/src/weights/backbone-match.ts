import * as tf from '@tensorflow/tfjs-core';
import { backboneNames, getBackbone } from '../backbones/backbone-registry';
import { validateReidModelOptions, type AttentionName, type ReidModelConfig } from '../model-options';
import { reidModelSpecs } from '../reid-model';
import type { SafetensorsEntry } from './safetensors';
import { torchShape } from './torch-layout';
import { isProvidedBy, mapTorchKey, type TorchWeightsFormat } from './torch-names';

/** How well a state_dict fits one backbone configuration. */
export interface BackboneMatch {
  backbone: string;
  attention: AttentionName;
  baseWidth: number;
  /** Source keys that name a weight of this configuration with its shape. */
  matched: number;
  /** Source keys considered (`num_batches_tracked` and ImageNet heads left out). */
  keys: number;
  /** Weights the configuration expects from a file of this format. */
  expected: number;
}

function fit(
  entries: Record<string, SafetensorsEntry>,
  format: TorchWeightsFormat,
  config: ReidModelConfig,
): BackboneMatch {
  const backbone = getBackbone(config.backbone);
  const specs = new Map(
    reidModelSpecs(config)
      .filter((spec) => isProvidedBy(format, spec.name, backbone))
      .map((spec) => [spec.name, spec]),
  );
  let matched = 0;
  let keys = 0;
  for (const [key, entry] of Object.entries(entries)) {
    const mapped = mapTorchKey(key, format, backbone);
    if (mapped.kind === 'ignored') continue;
    keys += 1;
    const spec = mapped.kind === 'weight' ? specs.get(mapped.name) : undefined;
    if (spec && tf.util.arraysEqual(entry.shape, torchShape(spec))) matched += 1;
  }
  return {
    backbone: config.backbone,
    attention: config.attention,
    baseWidth: config.baseWidth,
    matched,
    keys,
    expected: specs.size,
  };
}

/**
 * The `baseWidth` a state_dict was built with, read from its first convolution's output channels (64 for the real
 * networks, less for narrow ones); `config.baseWidth` when the file has no such weight.
 */
export function inferBaseWidth(
  entries: Record<string, SafetensorsEntry>,
  format: TorchWeightsFormat,
  config: ReidModelConfig,
): number {
  const backbone = getBackbone(config.backbone);
  const reference = validateReidModelOptions({ ...config, baseWidth: 64 });
  const firstConv = reidModelSpecs(reference).find((spec) => spec.layout === 'conv');
  if (!firstConv) return config.baseWidth;
  for (const [key, entry] of Object.entries(entries)) {
    const mapped = mapTorchKey(key, format, backbone);
    if (mapped.kind === 'weight' && mapped.name === firstConv.name && entry.shape.length === 4) {
      const width = ((entry.shape[0] as number) * 64) / (torchShape(firstConv)[0] as number);
      return Number.isInteger(width) && width > 0 ? width : config.baseWidth;
    }
  }
  return config.baseWidth;
}

/**
 * Every registered backbone × attention (at the file's inferred baseWidth), best fit first: the share of source keys
 * and expected weights that match by name and shape.
 */
export function rankBackbones(
  entries: Record<string, SafetensorsEntry>,
  format: TorchWeightsFormat,
  config: ReidModelConfig,
): BackboneMatch[] {
  const matches: BackboneMatch[] = [];
  for (const name of backboneNames()) {
    for (const attention of getBackbone(name).attention) {
      try {
        const candidate = validateReidModelOptions({ ...config, backbone: name, attention });
        const baseWidth = inferBaseWidth(entries, format, candidate);
        matches.push(fit(entries, format, validateReidModelOptions({ ...candidate, baseWidth })));
      } catch {
        // A combination the options reject (e.g. a width this backbone cannot take) is no candidate.
      }
    }
  }
  const share = (match: BackboneMatch) => match.matched / Math.max(1, match.keys, match.expected);
  return matches.sort((a, b) => share(b) - share(a));
}

/** One sentence naming the best-fitting backbone when it is not the model's own configuration; '' otherwise. */
export function closestBackboneHint(
  entries: Record<string, SafetensorsEntry>,
  format: TorchWeightsFormat,
  config: ReidModelConfig,
): string {
  const best = rankBackbones(entries, format, config)[0];
  if (!best) return '';
  const label = `${best.backbone}${best.attention === 'none' ? '' : ` + ${best.attention}`} (baseWidth ${best.baseWidth})`;
  if (best.matched === 0)
    return ` No registered backbone fits these keys (best: ${label}, 0 of ${best.keys}); is this a ${format} file of a Re-ID or ImageNet ResNet?`;
  const same =
    best.backbone === config.backbone && best.attention === config.attention && best.baseWidth === config.baseWidth;
  return same
    ? ''
    : ` Closest registered backbone: ${label}, ${best.matched} of ${best.keys} keys fit by name and shape.`;
}
