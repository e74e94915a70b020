/**
 * Speed of @vkd/models on the 2-core CPU demo setting: resnet18 at baseWidth 16, 64×32 inputs, batch of B=8
 * tracklets × T=4 frames, wasm backend with @vkd/backends' fast kernels (the wasm backend lacks
 * Conv2DBackpropFilter). Measures eval forward, train-mode forward (batch-statistics BN + moving-stat update) and a
 * full train step (forward + backward + SGD) via optimizer.minimize; medians after 2 warm-up runs.
 * Also a full-size ResNet-50 eval forward (2 frames of 256×128) unless --small.
 * Writes tools/bench/models/results/models.json.
 * Run from the repository root: npx tsx tools/bench/models/bench.ts [--small]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { registerFastKernels } from '../../../packages/backends/src/index';
import { createReidModel, type ReidModelOptions } from '../../../packages/models/src/index';

const requireFromModels = createRequire(new URL('../../../packages/models/package.json', import.meta.url));
const tf = requireFromModels('@tensorflow/tfjs-core') as typeof import('@tensorflow/tfjs-core');
requireFromModels('@tensorflow/tfjs-layers'); // registers gradients
requireFromModels('@tensorflow/tfjs-backend-wasm');

const small = process.argv.includes('--small');
const here = dirname(fileURLToPath(import.meta.url));

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

/**
 * Wall time and process CPU time (user + system) per run. wasm runs on one thread, so on a shared machine the CPU
 * time is the steadier measure of the work done; the wall time is what a user waits on an idle machine or longer.
 */
async function timeIt(
  run: () => Promise<void>,
  repeats: number,
): Promise<{ medianMs: number; medianCpuMs: number; runsMs: number[] }> {
  for (let i = 0; i < 2; i++) await run();
  const runsMs: number[] = [];
  const cpuMs: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    const cpu = process.cpuUsage();
    await run();
    const used = process.cpuUsage(cpu);
    runsMs.push(Math.round(performance.now() - start));
    cpuMs.push(Math.round((used.user + used.system) / 1000));
  }
  return { medianMs: median(runsMs), medianCpuMs: median(cpuMs), runsMs };
}

async function demoSetting(
  options: ReidModelOptions,
  shape: [number, number, number, number, number],
  repeats: number,
) {
  const model = createReidModel(options);
  const input = tf.randomNormal(shape, 0, 1, 'float32', 1);
  const labels = tf.oneHot(
    tf.tensor1d(
      Array.from({ length: shape[0] }, (_, i) => i % options.numIdentities),
      'int32',
    ),
    options.numIdentities,
  );
  const optimizer = tf.train.sgd(1e-3);
  const frames = shape[0] * shape[1];
  const read = async (tensors: {
    embeddings: import('@tensorflow/tfjs-core').Tensor;
    logits: import('@tensorflow/tfjs-core').Tensor;
  }) => {
    await tensors.logits.data();
    tf.dispose([tensors.embeddings, tensors.logits]);
  };
  const evalForward = await timeIt(() => read(model.forward(input, { training: false })), repeats);
  const trainForward = await timeIt(() => read(model.forward(input, { training: true })), repeats);
  const tensorsBefore = tf.memory().numTensors;
  const trainStep = await timeIt(async () => {
    const loss = optimizer.minimize(
      () => {
        const { embeddings, logits } = model.forward(input, { training: true });
        return tf.add(
          tf.losses.softmaxCrossEntropy(labels, logits),
          tf.mul(1e-3, tf.mean(tf.square(embeddings))),
        ) as import('@tensorflow/tfjs-core').Scalar;
      },
      true,
      model.trainableVariables(),
    );
    await loss?.data();
    loss?.dispose();
  }, repeats);
  const leaked = tf.memory().numTensors - tensorsBefore;
  tf.dispose([input, labels]);
  optimizer.dispose();
  model.dispose();
  return {
    options,
    inputShape: shape,
    frames,
    leakedTensorsDuringTraining: leaked,
    evalForward: { ...evalForward, framesPerCpuSecond: Math.round((frames / evalForward.medianCpuMs) * 1000) },
    trainForward: { ...trainForward, framesPerCpuSecond: Math.round((frames / trainForward.medianCpuMs) * 1000) },
    trainStep: { ...trainStep, framesPerCpuSecond: Math.round((frames / trainStep.medianCpuMs) * 1000) },
  };
}

async function main(): Promise<void> {
  tf.enableProdMode();
  if (!(await tf.setBackend('wasm'))) throw new Error('wasm backend unavailable');
  await tf.ready();
  const fastKernels = registerFastKernels('wasm');
  const results: Record<string, unknown> = {
    date: new Date().toISOString(),
    loadAverage: os.loadavg(),
    backend: 'wasm',
    fastKernels: fastKernels.kernels,
    node: process.version,
  };
  results.demo = await demoSetting(
    { backbone: 'resnet18', numIdentities: 100, baseWidth: 16 },
    [8, 4, 64, 32, 3],
    small ? 3 : 5,
  );
  console.log('resnet18 w16, [8, 4, 64, 32, 3]:', JSON.stringify(results.demo));
  if (!small) {
    const model = createReidModel({ backbone: 'resnet50', numIdentities: 625 });
    const input = tf.randomNormal([1, 2, 256, 128, 3], 0, 1, 'float32', 2);
    results.fullSizeResnet50Eval = await timeIt(async () => {
      const { embeddings, logits } = model.forward(input, { training: false });
      await embeddings.data();
      tf.dispose([embeddings, logits]);
    }, 3);
    console.log('resnet50 full size, [1, 2, 256, 128, 3] eval forward:', JSON.stringify(results.fullSizeResnet50Eval));
    input.dispose();
    model.dispose();
  }
  mkdirSync(join(here, 'results'), { recursive: true });
  const file = join(here, 'results', small ? 'models-small.json' : 'models.json');
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  console.log('wrote', file);
}

await main();
