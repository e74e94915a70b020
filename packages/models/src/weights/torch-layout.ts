import type { WeightSpec } from '../reid-model';
import { entryToFloat32, type SafetensorsEntry } from './safetensors';

/** PyTorch layout → this package's layout: OIHW → HWIO for convs, [out, in] → [in, out] for linears. */
export function toModelLayout(entry: SafetensorsEntry, spec: Pick<WeightSpec, 'layout'>): Float32Array {
  const values = entryToFloat32(entry);
  if (spec.layout === 'vector') return values;
  if (spec.layout === 'linear') {
    const [outFeatures, inFeatures] = entry.shape as [number, number];
    const result = new Float32Array(values.length);
    for (let o = 0; o < outFeatures; o++)
      for (let i = 0; i < inFeatures; i++) result[i * outFeatures + o] = values[o * inFeatures + i] as number;
    return result;
  }
  const [outChannels, inChannels, height, width] = entry.shape as [number, number, number, number];
  const result = new Float32Array(values.length);
  let source = 0;
  for (let o = 0; o < outChannels; o++) {
    for (let i = 0; i < inChannels; i++) {
      for (let h = 0; h < height; h++) {
        for (let w = 0; w < width; w++)
          result[((h * width + w) * inChannels + i) * outChannels + o] = values[source++] as number;
      }
    }
  }
  return result;
}

/** The PyTorch shape of a weight whose shape in this package is `spec.shape`. */
export function torchShape(spec: Pick<WeightSpec, 'layout' | 'shape'>): number[] {
  if (spec.layout === 'linear') return [spec.shape[1] as number, spec.shape[0] as number];
  if (spec.layout === 'conv') {
    const [height, width, inChannels, outChannels] = spec.shape as [number, number, number, number];
    return [outChannels, inChannels, height, width];
  }
  return [...spec.shape];
}
