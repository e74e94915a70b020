import * as tf from '@tensorflow/tfjs-core';
import { batchNorm } from '../../layers/batch-norm';
import { batchNormVariables, unitForward, type ForwardContext } from '../../layers/conv-unit';
import { convolve } from '../../layers/convolution';
import type { DensenetArchitecture } from './densenet-architecture';

/** Pre-activation unit of DenseNet: BatchNorm → ReLU → bias-free conv (stride 1, PyTorch padding (k−1)/2). */
function normReluConv(
  x: tf.Tensor4D,
  norm: string,
  conv: string,
  kernel: number,
  context: ForwardContext,
): tf.Tensor4D {
  const activated = batchNorm(x, batchNormVariables(context, norm), context.mode, { relu: true });
  const filter = context.variable(`${conv}.weight`) as tf.Tensor4D;
  return convolve(
    activated,
    filter,
    { kernel, stride: 1, padding: (kernel - 1) / 2, dilation: 1 },
    undefined,
    'linear',
  );
}

/**
 * DenseNet-121 `features` on a batch of frames (call inside `tf.tidy`): conv0/norm0/relu0, 3×3/2 max-pool, four dense
 * blocks (each layer's 32-channel output concatenated to its input) with transitions (1×1 conv, 2×2/2 average pool)
 * between them, then norm5, without torchvision's final ReLU unless `finalReLU`.
 * @param images [N, H, W, 3], ImageNet-normalised RGB.
 * @returns [N, ⌊H/32⌋-ish, ⌊W/32⌋-ish, D] (output stride 32, pools round down).
 */
export function densenetForward(
  images: tf.Tensor4D,
  architecture: DensenetArchitecture,
  context: ForwardContext,
): tf.Tensor4D {
  const stem = unitForward(images, architecture.stem, context, { relu: true, inputIsData: true });
  let x = tf.maxPool(stem, 3, 2, 1, 'floor');
  architecture.blocks.forEach((block, blockIndex) => {
    for (const layer of block.layers) {
      const bottleneck = normReluConv(x, `${layer.prefix}.norm1`, `${layer.prefix}.conv1`, 1, context);
      const features = normReluConv(bottleneck, `${layer.prefix}.norm2`, `${layer.prefix}.conv2`, 3, context);
      x = tf.concat([x, features], 3);
    }
    const transition = architecture.transitions[blockIndex];
    if (transition) {
      // PyTorch AvgPool2d(2, 2): no padding, floor rounding = tfjs 'valid'.
      x = tf.avgPool(
        normReluConv(x, `${transition.prefix}.norm`, `${transition.prefix}.conv`, 1, context),
        2,
        2,
        'valid',
      );
    }
  });
  return batchNorm(x, batchNormVariables(context, architecture.finalNorm), context.mode, {
    relu: architecture.finalReLU,
  });
}
