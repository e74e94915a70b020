// Times Conv2DBackpropInput / Conv2DBackpropFilter on the ResNet-18 128×64 layer shapes (batch 8): the backend's
// original kernels vs the fast ones of @vkd/backends. Prints one JSON object.
import * as tf from '@tensorflow/tfjs-core';
import { registerFastKernels, selectBackend, unregisterFastKernels } from '@vkd/backends';

// [name, N, H, W, Ci, Co, k, stride, pad]
const LAYERS: Array<[string, number, number, number, number, number, number, number, number]> = [
  ['stem 7x7 s2', 8, 128, 64, 3, 64, 7, 2, 3],
  ['layer1 3x3', 8, 32, 16, 64, 64, 3, 1, 1],
  ['layer2.0 3x3 s2', 8, 32, 16, 64, 128, 3, 2, 1],
  ['layer2.0 1x1 s2', 8, 32, 16, 64, 128, 1, 2, 0],
  ['layer2 3x3', 8, 16, 8, 128, 128, 3, 1, 1],
  ['layer3.0 3x3 s2', 8, 16, 8, 128, 256, 3, 2, 1],
  ['layer3 3x3', 8, 8, 4, 256, 256, 3, 1, 1],
  ['layer4.0 3x3 (last stride 1)', 8, 8, 4, 256, 512, 3, 1, 1],
  ['layer4 3x3', 8, 8, 4, 512, 512, 3, 1, 1],
];

/**
 * Best of `repeats` runs in CPU milliseconds of this process (user + system): on the shared 2-core VM wall time
 * swings with other processes' load, CPU time much less.
 */
async function time(fn: () => tf.Tensor, repeats = 3): Promise<number> {
  const warm = fn();
  await warm.data();
  warm.dispose();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = process.cpuUsage();
    const out = fn();
    await out.data();
    const used = process.cpuUsage(start);
    times.push((used.user + used.system) / 1000);
    out.dispose();
  }
  return Math.min(...times);
}

async function main(): Promise<void> {
  const device = (process.argv[2] ?? 'wasm') as 'wasm' | 'cpu';
  await selectBackend({ device });
  const rows = [];
  for (const [name, n, h, w, ci, co, k, s, p] of LAYERS) {
    const x = tf.randomNormal([n, h, w, ci]) as tf.Tensor4D;
    const filter = tf.randomNormal([k, k, ci, co]) as tf.Tensor4D;
    const pad = [
      [0, 0],
      [p, p],
      [p, p],
      [0, 0],
    ];
    const info = tf.backend_util.computeConv2DInfo(x.shape, filter.shape, s, 1, pad as never);
    const dy = tf.randomNormal(info.outShape);
    const attrs = { strides: [s, s], pad, dataFormat: 'NHWC', dimRoundingMode: undefined };
    const dx = () =>
      tf
        .engine()
        .runKernel('Conv2DBackpropInput', { dy, filter }, { ...attrs, inputShape: x.shape } as never) as tf.Tensor;
    const dw = () =>
      tf
        .engine()
        .runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: filter.shape } as never) as tf.Tensor;
    const fwd = () => tf.conv2d(x, filter, s, pad as never);
    // As in training: the filter is a new tensor each step, so XNNPACK packs it again.
    const fwdNewFilter = () => tf.tidy(() => tf.conv2d(x, tf.mul(filter, 1) as tf.Tensor4D, s, pad as never));
    const gmac = (n * info.outHeight * info.outWidth * co * k * k * ci) / 1e9;
    const row: Record<string, number | string> = {
      name,
      gflop: Math.round(2 * gmac * 1000) / 1000,
      forwardMs: Math.round(await time(fwd)),
      forwardNewFilterMs: Math.round(await time(fwdNewFilter)),
    };
    registerFastKernels(device);
    row.fastDxMs = Math.round(await time(dx));
    row.fastDwMs = Math.round(await time(dw));
    unregisterFastKernels(device);
    row.originalDxMs = Math.round(await time(dx, 1));
    if (device === 'cpu') row.originalDwMs = Math.round(await time(dw, 1));
    rows.push(row);
    tf.dispose([x, filter, dy]);
  }
  console.log(JSON.stringify({ device, rows }));
}

void main();
