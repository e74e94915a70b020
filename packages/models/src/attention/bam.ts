import * as tf from '@tensorflow/tfjs-core';
import { batchNorm } from '../layers/batch-norm';
import { batchNormVariables, unitForward, unitSpecs, type ConvUnit, type ForwardContext } from '../layers/conv-unit';
import { batchNormSpecs, linearSpecs, type ParameterSpec } from '../parameters';

/** BAM reduction ratio and dilation (Park et al., BMVC 2018; `model/cbam/bam.py` of aimagelab/VKD). */
const REDUCTION = 16;
const DILATION = 4;

function spatialUnits(prefix: string, channels: number): ConvUnit[] {
  const hidden = Math.floor(channels / REDUCTION);
  const gate = `${prefix}.spatial_att.gate_s`;
  const dilated = (index: number): ConvUnit => ({
    conv: `${gate}.gate_s_conv_di_${index}`,
    bn: `${gate}.gate_s_bn_di_${index}`,
    inChannels: hidden,
    outChannels: hidden,
    geometry: { kernel: 3, stride: 1, padding: DILATION, dilation: DILATION },
    convBias: true,
  });
  return [
    {
      conv: `${gate}.gate_s_conv_reduce0`,
      bn: `${gate}.gate_s_bn_reduce0`,
      inChannels: channels,
      outChannels: hidden,
      geometry: { kernel: 1, stride: 1, padding: 0, dilation: 1 },
      convBias: true,
    },
    dilated(0),
    dilated(1),
  ];
}

/**
 * Specs of one BAM module with VKD's key names (`<prefix>.channel_att.gate_c.*`, `<prefix>.spatial_att.gate_s.*`).
 * Init as `resnet_bam.py`: convs kaiming-normal fan-out, every BN weight 1, every bias 0, the channel-gate Linear
 * weights PyTorch's default U(±1/√in).
 */
export function bamSpecs(prefix: string, channels: number): ParameterSpec[] {
  const hidden = Math.floor(channels / REDUCTION);
  const channelGate = `${prefix}.channel_att.gate_c`;
  const spatialGate = `${prefix}.spatial_att.gate_s`;
  return [
    ...linearSpecs(`${channelGate}.gate_c_fc_0`, channels, hidden),
    ...batchNormSpecs(`${channelGate}.gate_c_bn_1`, hidden),
    ...linearSpecs(`${channelGate}.gate_c_fc_final`, hidden, channels),
    ...spatialUnits(prefix, channels).flatMap((convUnit) => unitSpecs(convUnit)),
    {
      name: `${spatialGate}.gate_s_conv_final.weight`,
      shape: [1, 1, hidden, 1],
      layout: 'conv',
      trainable: true,
      init: { kind: 'kaiming-normal-fan-out' },
    },
    {
      name: `${spatialGate}.gate_s_conv_final.bias`,
      shape: [1],
      layout: 'vector',
      trainable: true,
      init: { kind: 'constant', value: 0 },
    },
  ];
}

function linear(x: tf.Tensor2D, context: ForwardContext, prefix: string): tf.Tensor2D {
  return tf.fused.matMul({
    a: x,
    b: context.variable(`${prefix}.weight`) as tf.Tensor2D,
    bias: context.variable(`${prefix}.bias`),
  }) as tf.Tensor2D;
}

/**
 * Bottleneck Attention Module: `x · (1 + σ(Mc · Ms))` with the broadcast **product** of the channel gate
 * Mc [N, 1, 1, C] and the spatial gate Ms [N, H, W, 1], as the official BAM code and VKD (not the paper's sum).
 * @param x [N, H, W, C]. @returns [N, H, W, C] (call inside `tf.tidy`).
 */
export function bamForward(x: tf.Tensor4D, prefix: string, context: ForwardContext): tf.Tensor4D {
  const [count, , , channels] = x.shape;
  const channelGate = `${prefix}.channel_att.gate_c`;
  const hidden = linear(tf.mean(x, [1, 2]) as tf.Tensor2D, context, `${channelGate}.gate_c_fc_0`);
  const normalised = batchNorm(hidden, batchNormVariables(context, `${channelGate}.gate_c_bn_1`), context.mode, {
    relu: true,
  });
  const channelAttention = tf.reshape(linear(normalised, context, `${channelGate}.gate_c_fc_final`), [
    count,
    1,
    1,
    channels,
  ]);

  let spatial = x;
  for (const convUnit of spatialUnits(prefix, channels))
    spatial = unitForward(spatial, convUnit, context, { relu: true });
  const finalConv = `${prefix}.spatial_att.gate_s.gate_s_conv_final`;
  const spatialAttention = tf.fused.conv2d({
    x: spatial,
    filter: context.variable(`${finalConv}.weight`) as tf.Tensor4D,
    strides: 1,
    pad: 'valid',
    bias: context.variable(`${finalConv}.bias`),
  });
  const gate = tf.sigmoid(tf.mul(channelAttention, spatialAttention));
  return tf.add(x, tf.mul(x, gate));
}
