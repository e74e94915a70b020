import * as tf from '@tensorflow/tfjs-core';
import { CheckpointError, InvalidOptionError, formatShape } from '@vkd/core';
import { getBackbone } from '../backbones/backbone-registry';
import type { ReidModel } from '../reid-model';
import { readFileBytes } from './read-bytes';
import { parseSafetensors, type SafetensorsEntry } from './safetensors';
import { toModelLayout, torchShape } from './torch-layout';
import { detectTorchFormat, isProvidedBy, mapTorchKey, TORCH_WEIGHTS_FORMATS, type TorchWeightsFormat } from './torch-names';

/** Options of {@link importTorchWeights}. */
export interface ImportTorchWeightsOptions {
  /** Key naming of the source; detected from the keys when omitted (VKD keys → `'vkd'`, else `'torchvision'`). */
  format?: TorchWeightsFormat;
  /** Accept a source that lacks weights the format should provide (they keep their current values). */
  allowMissing?: boolean;
  /** Accept source keys that match no model weight (they are skipped). */
  allowUnexpected?: boolean;
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

/** How to convert a pickle checkpoint to safetensors once, for the file the user gave (`source`, when a path). */
function pickleHint(source: string): string {
  const input = JSON.stringify(source);
  const output = JSON.stringify(`${source.replace(/\.(pth\.tar|pth|pt|ckpt)$/i, '')}.safetensors`);
  return (
    'PyTorch .pth/.pt files are zip archives of pickles, which cannot be read safely outside Python. Convert once with: ' +
    'python -c "import torch, sys; from safetensors.torch import save_file; sd = torch.load(sys.argv[1], map_location=\'cpu\'); ' +
    `sd = sd.get('state_dict', sd); save_file({k: v.contiguous() for k, v in sd.items()}, sys.argv[2])" ${input} ${output}`
  );
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
 * `classifier.bottleneck.*`, `classifier.classifier.weight`, BAM keys), converted to safetensors. Layouts are
 * converted (OIHW → HWIO, [out, in] → [in, out]); F16/BF16/F64 sources are converted to float32. Nothing is assigned
 * unless the whole import is valid.
 * @param source path to a `.safetensors` file (Node), or its bytes.
 * @returns a report of loaded / missing / unexpected / ignored / untouched keys.
 * @throws CheckpointError for a `.pth` file (with the one-line conversion), an unreadable or malformed file, a shape
 *   mismatch, or missing / unexpected keys unless allowed; InvalidOptionError for an unknown format.
 */
export async function importTorchWeights(model: ReidModel, source: string | Uint8Array | ArrayBuffer, options: ImportTorchWeightsOptions = {}): Promise<ImportReport> {
  const sourceName = typeof source === 'string' ? source : '<bytes>';
  if (options.format !== undefined && !TORCH_WEIGHTS_FORMATS.includes(options.format)) {
    throw new InvalidOptionError('importTorchWeights.options.format', options.format, `Expected one of ${TORCH_WEIGHTS_FORMATS.map((name) => `"${name}"`).join(', ')}.`);
  }
  if (typeof source === 'string' && /\.(pth|pt|pth\.tar|ckpt)$/i.test(source)) throw new CheckpointError(source, pickleHint(source));
  const bytes = typeof source === 'string' ? await readFileBytes(source) : source instanceof ArrayBuffer ? new Uint8Array(source) : source;
  if (!(bytes instanceof Uint8Array)) throw new InvalidOptionError('importTorchWeights.source', source, 'Expected a path or the bytes of a .safetensors file.');
  const zipOrPickle = (bytes[0] === 0x50 && bytes[1] === 0x4b) || bytes[0] === 0x80;
  if (zipOrPickle) throw new CheckpointError(sourceName, `this is a PyTorch pickle/zip file, not safetensors. ${pickleHint(typeof source === 'string' ? source : 'checkpoint.pth')}`);
  let entries: Record<string, SafetensorsEntry>;
  try {
    entries = parseSafetensors(bytes, sourceName).entries;
  } catch (error) {
    throw new CheckpointError(sourceName, `not a readable safetensors file: ${(error as Error).message}`, { cause: error });
  }
  const format = options.format ?? detectTorchFormat(Object.keys(entries));
  const backbone = getBackbone(model.config.backbone);
  const specs = new Map(model.weightSpecs().map((spec) => [spec.name, spec]));
  const report: ImportReport = { source: sourceName, format, loaded: [], missing: [], unexpected: [], ignored: [], untouched: [] };
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
      throw new CheckpointError(sourceName, `"${key}" has shape ${formatShape(entry.shape)} but the model expects ${formatShape(expected)} (PyTorch layout). ${shapeHint(mapped.name, entry.shape, model)}`);
    }
    if (entry.dtype === 'BOOL' || entry.dtype.startsWith('I') || entry.dtype === 'U8') {
      throw new CheckpointError(sourceName, `"${key}" has integer dtype ${entry.dtype}; weights must be floating point.`);
    }
    values.set(spec.name, toModelLayout(entry, spec));
  }
  for (const spec of specs.values()) {
    if (values.has(spec.name)) report.loaded.push(spec.name);
    else if (isProvidedBy(format, spec.name, backbone)) report.missing.push(spec.name);
    else report.untouched.push(spec.name);
  }
  if (report.missing.length > 0 && !options.allowMissing) {
    throw new CheckpointError(sourceName, `${report.missing.length} model weight(s) missing from this ${format} file: ${listed(report.missing)}. Pass allowMissing: true to keep their current values, or check format/backbone/attention.`);
  }
  if (report.unexpected.length > 0 && !options.allowUnexpected) {
    throw new CheckpointError(sourceName, `${report.unexpected.length} key(s) match no weight of this model: ${listed(report.unexpected)}. Pass allowUnexpected: true to skip them, or check format/backbone/attention.`);
  }
  const tensors = Object.fromEntries([...values].map(([name, data]) => [name, tf.tensor(data, specs.get(name)?.shape, 'float32')]));
  try {
    model.setWeights(tensors);
  } finally {
    tf.dispose(Object.values(tensors));
  }
  return report;
}
