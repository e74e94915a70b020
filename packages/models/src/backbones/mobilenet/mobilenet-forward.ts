import * as tf from '@tensorflow/tfjs-core';
import { batchNorm } from '../../layers/batch-norm';
import { batchNormVariables, convUnit, unitForward, type ForwardContext } from '../../layers/conv-unit';
import { depthwiseConvolve } from '../../layers/depthwise-convolution';
import type { InvertedResidual, MobilenetArchitecture, MobilenetUnit } from './mobilenet-architecture';

/**
 * One conv + BatchNorm (+ shortcut) (+ ReLU6). Dense convs go through the shared conv + BatchNorm unit (one fused op
 * in training); a depthwise conv (groups = channels, filter stored `[k, k, 1, C]`) runs as `depthwiseConvolve`
 * (trainable on wasm too).
 */
function mobilenetUnitForward(
  x: tf.Tensor4D,
  mobileUnit: MobilenetUnit,
  context: ForwardContext,
  options: { shortcut?: tf.Tensor4D; inputIsData?: boolean } = {},
): tf.Tensor4D {
  const { kernel, stride, inChannels, outChannels } = mobileUnit;
  let normalised: tf.Tensor4D;
  if (mobileUnit.depthwise) {
    const pad = (kernel - 1) / 2;
    const filter = tf.reshape(context.variable(`${mobileUnit.conv}.weight`), [
      kernel,
      kernel,
      outChannels,
      1,
    ]) as tf.Tensor4D;
    const convolved = depthwiseConvolve(x, filter, stride, pad);
    const tail = options.shortcut ? { relu: false, shortcut: options.shortcut } : { relu: false };
    normalised = batchNorm(convolved, batchNormVariables(context, mobileUnit.bn), context.mode, tail);
  } else {
    const dense = convUnit(mobileUnit.conv, mobileUnit.bn, kernel, stride, inChannels, outChannels);
    const tail = {
      relu: false,
      ...(options.shortcut ? { shortcut: options.shortcut } : {}),
      ...(options.inputIsData ? { inputIsData: true } : {}),
    };
    normalised = unitForward(x, dense, context, tail);
  }
  return mobileUnit.relu6 ? tf.relu6(normalised) : normalised;
}

function invertedResidualForward(x: tf.Tensor4D, block: InvertedResidual, context: ForwardContext): tf.Tensor4D {
  const last = block.units.length - 1;
  let out = x;
  block.units.forEach((mobileUnit, index) => {
    out = mobilenetUnitForward(out, mobileUnit, context, index === last && block.residual ? { shortcut: x } : {});
  });
  return out;
}

/**
 * MobileNet-V2 `features` on a batch of frames (call inside `tf.tidy`), with the authors' stride-1 features[14] and
 * no final ReLU6 (as configured in `architecture`).
 * @param images [N, H, W, 3], ImageNet-normalised RGB.
 * @returns [N, ⌈H/16⌉, ⌈W/16⌉, 1280] with last stride 1 (each stride-2 conv gives ⌊(h − 1)/2⌋ + 1).
 */
export function mobilenetForward(
  images: tf.Tensor4D,
  architecture: MobilenetArchitecture,
  context: ForwardContext,
): tf.Tensor4D {
  let x = mobilenetUnitForward(images, architecture.stem, context, { inputIsData: true });
  for (const block of architecture.blocks) x = invertedResidualForward(x, block, context);
  return mobilenetUnitForward(x, architecture.last, context);
}
