import * as tf from '@tensorflow/tfjs-core';
import { CheckpointError, InvalidOptionError, formatShape } from '@vkd/core';
import { getBackbone } from '../backbones/backbone-registry';
import type { ReidModel } from '../reid-model';
import { closestBackboneHint } from './backbone-match';
import { readFileBytes } from './read-bytes';
import { toModelLayout, torchShape } from './torch-layout';
import { readWeightsFile } from './weights-file';
import {
  detectTorchFormat,
  isProvidedBy,
  mapTorchKey,
  TORCH_WEIGHTS_FORMATS,
  type TorchWeightsFormat,
} from './torch-names';

/** Options of {@link importTorchWeights}. */
export interface ImportTorchWeightsOptions {
  /** Key naming of the source; detected from the keys when omitted (VKD keys → `'vkd'`, else `'torchvision'`). */
  format?: TorchWeightsFormat;
  /** Accept a source that lacks weights the format should provide (they keep their current values). */
  allowMissing?: boolean;
  /** Accept source keys that match no model weight (they are skipped). */
  allowUnexpected?: boolean;
  /** How reports and errors name a source given as bytes (default `'<bytes>'`). */
  sourceName?: string;
}

/** What {@link importTorchWeights} did. Names are VKD state_dict keys unless stated. */
export interface ImportReport {
  source: string;
  format: TorchWeightsFormat;
  /** Model weights set from the source. */
  loaded: string[];
  /** Model weights the format should provide but the source lacks. */
  missing: string[];
  /** Source keys (as in the file) that match no model weight. */
  unexpected: string[];
  /** Source keys skipped by design: `num_batches_tracked`, and the ImageNet `fc.*` of torchvision / timm files. */
  ignored: string[];
  /** Model weights this format never holds (Re-ID head and BAM for ImageNet files), left as they were. */
  untouched: string[];
}

function shapeHint(name: string, actual: readonly number[], model: ReidModel): string {
  if (name === 'classifier.classifier.weight') {
    return `The checkpoint classifies ${actual[0]} identities: create the model with numIdentities: ${actual[0]} (or import with allowMissing after dropping the head).`;
  }
  return `Check that the model's backbone ("${model.config.backbone}"), attention ("${model.config.attention}") and baseWidth (${model.config.baseWidth}) match the checkpoint.`;
}

function listed(names: readonly string[]): string {
  return names.length <= 5 ? names.join(', ') : `${names.slice(0, 5).join(', ')}, … (${names.length} in all)`;
}

/**
 * Loads PyTorch ResNet weights into a model: torchvision / timm ImageNet files (`conv1.*`, `layerN.*`; `fc.*` is
 * skipped, the Re-ID head and BAM keep their values) or the VKD authors' checkpoints (`backbone.features_layers.*`,
 * `classifier.bottleneck.*`, `classifier.classifier.weight`, BAM keys). The file is a `torch.save` state_dict (zip
 * or legacy stream, read by a restricted unpickler that builds only tensors and containers; a dict wrapping it
 * under `state_dict` / `model` / `net` is accepted) or safetensors, told apart by structure. Layouts are converted
 * (OIHW → HWIO, [out, in] → [in, out]); F16/BF16/F64 sources are converted to float32. Nothing is assigned unless
 * the whole import is valid.
 * @param source path to a `.pth` / `.pt` / bare `torch.save` file or a `.safetensors` file (Node), or its bytes.
 * @returns a report of loaded / missing / unexpected / ignored / untouched keys.
 * @throws CheckpointError for an unreadable, unknown, truncated or malformed file, a shape mismatch, a non-finite
 *   value, or missing / unexpected keys unless allowed; UnsafePickleError for a pickle naming any other Python
 *   global; InvalidOptionError for an unknown format.
 */
export async function importTorchWeights(
  model: ReidModel,
  source: string | Uint8Array | ArrayBuffer,
  options: ImportTorchWeightsOptions = {},
): Promise<ImportReport> {
  const sourceName = typeof source === 'string' ? source : (options.sourceName ?? '<bytes>');
  if (options.format !== undefined && !TORCH_WEIGHTS_FORMATS.includes(options.format)) {
    throw new InvalidOptionError(
      'importTorchWeights.options.format',
      options.format,
      `Expected one of ${TORCH_WEIGHTS_FORMATS.map((name) => `"${name}"`).join(', ')}.`,
    );
  }
  const bytes =
    typeof source === 'string'
      ? await readFileBytes(source)
      : source instanceof ArrayBuffer
        ? new Uint8Array(source)
        : source;
  if (!(bytes instanceof Uint8Array))
    throw new InvalidOptionError(
      'importTorchWeights.source',
      source,
      'Expected a path or the bytes of a weights file.',
    );
  const { entries } = readWeightsFile(bytes, sourceName);
  const format = options.format ?? detectTorchFormat(Object.keys(entries));
  const backbone = getBackbone(model.config.backbone);
  const specs = new Map(model.weightSpecs().map((spec) => [spec.name, spec]));
  const report: ImportReport = {
    source: sourceName,
    format,
    loaded: [],
    missing: [],
    unexpected: [],
    ignored: [],
    untouched: [],
  };
  const values = new Map<string, Float32Array>();
  for (const [key, entry] of Object.entries(entries)) {
    const mapped = mapTorchKey(key, format, backbone);
    if (mapped.kind === 'ignored') report.ignored.push(key);
    const spec = mapped.kind === 'weight' ? specs.get(mapped.name) : undefined;
    if (!spec || mapped.kind !== 'weight') {
      if (mapped.kind !== 'ignored') report.unexpected.push(key);
      continue;
    }
    const expected = torchShape(spec);
    if (!tf.util.arraysEqual(entry.shape, expected)) {
      throw new CheckpointError(
        sourceName,
        `"${key}" has shape ${formatShape(entry.shape)} but the model expects ${formatShape(expected)} (PyTorch layout). ${shapeHint(mapped.name, entry.shape, model)}${closestBackboneHint(entries, format, model.config)}`,
      );
    }
    if (entry.dtype === 'BOOL' || entry.dtype.startsWith('I') || entry.dtype === 'U8') {
      throw new CheckpointError(
        sourceName,
        `"${key}" has integer dtype ${entry.dtype}; weights must be floating point.`,
      );
    }
    const converted = toModelLayout(entry, spec);
    const bad = converted.findIndex((value) => !Number.isFinite(value));
    if (bad >= 0) {
      throw new CheckpointError(
        sourceName,
        `"${key}" holds ${converted[bad]} (element ${bad} in this package's layout, after conversion to float32); weights must be finite. Re-export the weights from a run that did not diverge.`,
      );
    }
    values.set(spec.name, converted);
  }
  for (const spec of specs.values()) {
    if (values.has(spec.name)) report.loaded.push(spec.name);
    else if (isProvidedBy(format, spec.name, backbone)) report.missing.push(spec.name);
    else report.untouched.push(spec.name);
  }
  if (report.missing.length > 0 && !options.allowMissing) {
    throw new CheckpointError(
      sourceName,
      `${report.missing.length} model weight(s) missing from this ${format} file: ${listed(report.missing)}. Pass allowMissing: true to keep their current values, or check format/backbone/attention.${closestBackboneHint(entries, format, model.config)}`,
    );
  }
  if (report.unexpected.length > 0 && !options.allowUnexpected) {
    throw new CheckpointError(
      sourceName,
      `${report.unexpected.length} key(s) match no weight of this model: ${listed(report.unexpected)}. Pass allowUnexpected: true to skip them, or check format/backbone/attention.${closestBackboneHint(entries, format, model.config)}`,
    );
  }
  const tensors = Object.fromEntries(
    [...values].map(([name, data]) => [name, tf.tensor(data, specs.get(name)?.shape, 'float32')]),
  );
  try {
    model.setWeights(tensors);
  } finally {
    tf.dispose(Object.values(tensors));
  }
  return report;
}
