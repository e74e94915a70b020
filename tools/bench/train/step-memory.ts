// Grounds the batch-memory preflight (`vkd train-teacher`/`distill`): for one backbone and input size, on wasm,
// the trainer's estimate (`measureFrameMemory` + `estimateStepBytes`: tf.profile of 2- and 4-frame passes) against
// what real teacher steps take: the wasm heap after steps of batch 8 and batch 16 frames (the heap grows and never
// shrinks, so its size after a step is that step's high-water mark), in one process.
// Usage (repository root), one configuration per process:
//   npx tsx --conditions=@vkd/source tools/bench/train/step-memory.ts resnet18 128 64
//   npx tsx --conditions=@vkd/source tools/bench/train/step-memory.ts resnet50 256 128
// Appends a row to tools/bench/train/results/step-memory.json.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import { registerFastKernels, selectBackend } from '@vkd/backends';
import { createReidModel, type BackboneName } from '@vkd/models';
import { adamWithL2, estimateStepBytes, measureFrameMemory, teacherStep } from '@vkd/trainer';

const [backbone = 'resnet18', heightText = '128', widthText = '64'] = process.argv.slice(2);
const height = Number(heightText);
const width = Number(widthText);
const MB = 1024 * 1024;
const heap = () => (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.length;

tf.enableProdMode();
await selectBackend({ device: 'wasm' });
registerFastKernels('wasm');
const model = createReidModel({ backbone: backbone as BackboneName, numIdentities: 625, seed: 1 });
const optimizer = adamWithL2({});
const heapAtStart = heap();
const started = performance.now();
const memory = await measureFrameMemory(model, [height, width]);
const probeSeconds = (performance.now() - started) / 1000;
const heapAfterProbe = heap();

function batch(frames: number) {
  const data = new Float32Array(frames * height * width * 3);
  for (let index = 0; index < data.length; index++) data[index] = Math.sin(index * 12.9898) * 1.5;
  // Single-frame tracklets (as the VeRi teacher), 2 per identity.
  return {
    frames: data,
    shape: [frames, 1, height, width, 3] as const,
    identities: Int32Array.from({ length: frames }, (_, index) => Math.floor(index / 2)),
    cameras: Int32Array.from({ length: frames }, (_, index) => index % 2),
    trackletIndices: Int32Array.from({ length: frames }, (_, index) => index),
  };
}

const step = teacherStep({ model, optimizer });
const measured: Array<{ frames: number; heapMB: number; estimateMB: number }> = [];
for (const frames of [8, 16]) {
  for (let repeat = 0; repeat < 2; repeat++) await step.run(batch(frames));
  const estimate = estimateStepBytes(memory, { tracklets: frames, trainedFrames: 1 });
  measured.push({ frames, heapMB: Math.round(heap() / MB), estimateMB: Math.round(estimate.totalBytes / MB) });
}
const [at8, at16] = measured as [(typeof measured)[0], (typeof measured)[0]];
const row = {
  date: new Date().toISOString(),
  backbone,
  size: `${height}x${width}`,
  probeSeconds: Math.round(probeSeconds * 10) / 10,
  estimate: {
    trainingMBPerFrame: Math.round((memory.trainingBytesPerFrame / MB) * 10) / 10,
    inferenceMBPerFrame: Math.round((memory.inferenceBytesPerFrame / MB) * 10) / 10,
    largestTensorMBPerFrame: Math.round((memory.largestTensorBytesPerFrame / MB) * 10) / 10,
    weightMB: Math.round(memory.weightBytes / MB),
  },
  wasmHeap: { atStartMB: Math.round(heapAtStart / MB), afterProbeMB: Math.round(heapAfterProbe / MB), steps: measured },
  // The number the preflight relies on: heap growth per frame between batch 8 and 16, against the estimate's slope.
  heapGrowthMBPerFrame: Math.round(((at16.heapMB - at8.heapMB) / 8) * 10) / 10,
  ratioEstimateToHeapGrowth:
    Math.round((memory.trainingBytesPerFrame / MB / ((at16.heapMB - at8.heapMB) / 8)) * 100) / 100,
  ratioEstimateToHeapAt16: Math.round((at16.estimateMB / at16.heapMB) * 100) / 100,
};
console.log(JSON.stringify(row));
const directory = join(import.meta.dirname, 'results');
mkdirSync(directory, { recursive: true });
const file = join(directory, 'step-memory.json');
const rows = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as unknown[]) : [];
writeFileSync(file, `${JSON.stringify([...rows, row], null, 2)}\n`);
model.dispose();
optimizer.dispose();
