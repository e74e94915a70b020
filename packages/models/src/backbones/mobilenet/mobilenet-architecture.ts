import { batchNormSpecs, convSpecs, type ParameterSpec } from '../../parameters';

/** MobileNet-V2's inverted-residual settings (expansion t, channels c, repeats n, first stride s), torchvision's. */
const INVERTED_RESIDUAL_SETTINGS: ReadonlyArray<readonly [number, number, number, number]> = [
  [1, 16, 1, 1],
  [6, 24, 2, 2],
  [6, 32, 3, 2],
  [6, 64, 4, 2],
  [6, 96, 3, 1],
  [6, 160, 3, 2],
  [6, 320, 1, 1],
];
const STEM_CHANNELS = 32;
const LAST_CHANNELS = 1280;
/** `features[14]`: the first 160-channel block, whose depthwise conv the authors set to stride `last_stride`. */
export const LAST_STRIDE_BLOCK = 14;

/** torchvision's `_make_divisible(value, 8)`: the nearest multiple of 8, at least 8, never 10 % below `value`. */
export function makeDivisible(value: number, divisor = 8): number {
  const rounded = Math.max(divisor, Math.floor((value + divisor / 2) / divisor) * divisor);
  return rounded < 0.9 * value ? rounded + divisor : rounded;
}

/** A conv + BatchNorm (+ ReLU6), dense or depthwise (`groups = channels`). */
export interface MobilenetUnit {
  conv: string;
  bn: string;
  kernel: number;
  stride: number;
  inChannels: number;
  outChannels: number;
  depthwise: boolean;
  relu6: boolean;
}

/** An inverted residual: [1×1 expand] → 3×3 depthwise → 1×1 linear, `+ x` when stride 1 and channels unchanged. */
export interface InvertedResidual {
  units: MobilenetUnit[];
  /** torchvision's `use_res_connect`, fixed at construction (before the authors change features[14]'s stride). */
  residual: boolean;
}

/** torchvision's `mobilenet_v2.features` (19 modules) as the authors use it. */
export interface MobilenetArchitecture {
  /** features[0]: 3×3 conv, stride 2, BN, ReLU6. */
  stem: MobilenetUnit;
  /** features[1..17]. */
  blocks: InvertedResidual[];
  /** features[18]: 1×1 conv to 1280 channels, BN (its ReLU6 removed by the authors). */
  last: MobilenetUnit;
  /** D (1280 at any width ≤ 1, as torchvision). */
  outChannels: number;
}

function unit(
  prefix: string,
  kernel: number,
  stride: number,
  inChannels: number,
  outChannels: number,
  options: { depthwise?: boolean; relu6: boolean; bn?: string },
): MobilenetUnit {
  return {
    conv: options.bn ? prefix : `${prefix}.0`,
    bn: options.bn ?? `${prefix}.1`,
    kernel,
    stride,
    inChannels,
    outChannels,
    depthwise: options.depthwise ?? false,
    relu6: options.relu6,
  };
}

/**
 * The layer list of MobileNet-V2 with `width_mult = baseWidth / 64` (64 = torchvision's `mobilenet_v2()`), with the
 * authors' surgery (`model/net.py` `get_mobilenet_backbone_layers`): features[14]'s depthwise conv at stride
 * `lastStride` (1: output stride 16) and, with `removeLastReLU`, no ReLU6 after features[18].
 */
export function mobilenetArchitecture(
  baseWidth: number,
  lastStride: 1 | 2,
  removeLastReLU: boolean,
): MobilenetArchitecture {
  const widthMultiplier = baseWidth / 64;
  const layer = (index: number) => `backbone.features_layers.${index}`;
  let inChannels = makeDivisible(STEM_CHANNELS * widthMultiplier);
  const stem = unit(layer(0), 3, 2, 3, inChannels, { relu6: true });
  const blocks: InvertedResidual[] = [];
  for (const [expansion, channels, repeats, firstStride] of INVERTED_RESIDUAL_SETTINGS) {
    const outChannels = makeDivisible(channels * widthMultiplier);
    for (let repeat = 0; repeat < repeats; repeat++) {
      const index = blocks.length + 1;
      const stride = repeat === 0 ? firstStride : 1;
      const hidden = Math.round(inChannels * expansion);
      const prefix = `${layer(index)}.conv`;
      const units: MobilenetUnit[] = [];
      if (expansion !== 1) units.push(unit(`${prefix}.0`, 1, 1, inChannels, hidden, { relu6: true }));
      const depthwiseStride = index === LAST_STRIDE_BLOCK ? lastStride : stride;
      units.push(
        unit(`${prefix}.${units.length}`, 3, depthwiseStride, hidden, hidden, { depthwise: true, relu6: true }),
      );
      const linear = units.length;
      units.push(
        unit(`${prefix}.${linear}`, 1, 1, hidden, outChannels, { relu6: false, bn: `${prefix}.${linear + 1}` }),
      );
      blocks.push({ units, residual: stride === 1 && inChannels === outChannels });
      inChannels = outChannels;
    }
  }
  const outChannels = makeDivisible(LAST_CHANNELS * Math.max(1, widthMultiplier));
  const last = unit(layer(blocks.length + 1), 1, 1, inChannels, outChannels, { relu6: !removeLastReLU });
  return { stem, blocks, last, outChannels };
}

/** Specs of one unit; a depthwise filter is `[k, k, 1, C]` (PyTorch `[C, 1, k, k]`). */
function unitSpecs(mobileUnit: MobilenetUnit): ParameterSpec[] {
  const perGroup = mobileUnit.depthwise ? 1 : mobileUnit.inChannels;
  return [
    ...convSpecs(mobileUnit.conv, mobileUnit.kernel, perGroup, mobileUnit.outChannels),
    ...batchNormSpecs(mobileUnit.bn, mobileUnit.outChannels),
  ];
}

/**
 * Parameter specs of the MobileNet-V2 features in state_dict order. Init as torchvision: convs kaiming-normal
 * fan-out, BN weight 1, bias 0.
 */
export function mobilenetSpecs(architecture: MobilenetArchitecture): ParameterSpec[] {
  return [architecture.stem, ...architecture.blocks.flatMap((block) => block.units), architecture.last].flatMap(
    unitSpecs,
  );
}
