// Training-step memory on wasm, one backbone, input size and configuration per process (the wasm heap grows and never
// shrinks, so its size after a step is that step's high-water mark):
// - the wasm heap after teacher steps of batch 8 and of batch 16 single-frame tracklets, and its growth per frame
//   between the two (the figure compared with PyTorch's RSS growth, `run-memory.mjs`), with the step times;
// - the trainer's estimate (`measureFrameMemory` + `estimateStepBytes`: tf.profile of 2- and 4-frame passes, what the
//   `vkd` batch-memory preflight uses) against that heap.
// Configurations: `old` (the training ops before progressive freeing, `setLegacyTrainingMemory(true)`), `new`
// (progressive freeing), `recompute` (new + activation recomputation per ResNet stage), `recompute-conv` (new, conv
// outputs recomputed per unit in the backward pass instead of kept, `setRecomputeConvolutions(true)`).
// Usage (repository root):
//   npx tsx --conditions=@vkd/source tools/bench/train/step-memory.ts resnet50 256 128 new [--out FILE]
// Prints one JSON row; appends it to FILE (default tools/bench/train/results/step-memory.json).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import { registerFastKernels, selectBackend } from '@vkd/backends';
import { createReidModel, setLegacyTrainingMemory, setRecomputeConvolutions, type BackboneName } from '@vkd/models';
import { adamWithL2, estimateStepBytes, measureFrameMemory, teacherStep } from '@vkd/trainer';

const CONFIGURATIONS = ['old', 'new', 'recompute', 'recompute-conv'] as const;
type Configuration = (typeof CONFIGURATIONS)[number];

const args = process.argv.slice(2);
const outIndex = args.indexOf('--out');
const out = outIndex >= 0 ? args.splice(outIndex, 2)[1] : join(import.meta.dirname, 'results', 'step-memory.json');
const [backbone = 'resnet18', heightText = '128', widthText = '64', configText = 'new'] = args;
if (!(CONFIGURATIONS as readonly string[]).includes(configText)) {
  throw new Error(`step-memory.ts: configuration "${configText}": expected one of ${CONFIGURATIONS.join(', ')}.`);
}
const configuration = configText as Configuration;
const recompute = configuration === 'recompute';
const height = Number(heightText);
const width = Number(widthText);
const MB = 1024 * 1024;
type WasmModule = { HEAPU8: Uint8Array; _malloc(bytes: number): number };
const wasmModule = () => (tf.backend() as unknown as { wasm: WasmModule }).wasm;
const heap = () => wasmModule().HEAPU8.length;

tf.enableProdMode();
await selectBackend({ device: 'wasm' });
registerFastKernels('wasm');
// The heap grows in steps of up to 20 % (at most the request + 96 MiB, emscripten's `emscripten_resize_heap`), so
// its size is a coarse high-water mark. The top of the highest tensor buffer ever allocated (every tensor buffer is
// a `_malloc` of the backend) is a byte-exact one, fragmentation included; allocations inside the kernels are not in it.
let highestByte = 0;
// One allocation first: emscripten's lazy `_malloc` stub replaces itself with the raw export on its first call.
tf.dispose(tf.zeros([1]));
const originalMalloc = wasmModule()._malloc.bind(wasmModule());
wasmModule()._malloc = (bytes: number) => {
  const address = originalMalloc(bytes);
  highestByte = Math.max(highestByte, address + bytes);
  return address;
};
setLegacyTrainingMemory(configuration === 'old');
setRecomputeConvolutions(configuration === 'recompute-conv');
const model = createReidModel({ backbone: backbone as BackboneName, numIdentities: 625, seed: 1 });
const optimizer = adamWithL2({});
const heapAtStart = heap();
const started = performance.now();
const memory = await measureFrameMemory(model, [height, width], { recompute });
const probeSeconds = (performance.now() - started) / 1000;
const heapAfterProbe = heap();
const highestAfterProbe = highestByte;

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

const step = teacherStep({ model, optimizer, recompute });
const measured: Array<{
  frames: number;
  heapMB: number;
  highestTensorByteMB: number;
  estimateMB: number;
  stepSeconds: number;
  loss: number;
}> = [];
for (const frames of [8, 16]) {
  // Two steps per batch size; the step time is the faster one (the first pays one-off kernel set-up).
  let seconds = Number.POSITIVE_INFINITY;
  let loss = 0;
  for (let repeat = 0; repeat < 2; repeat++) {
    const stepStart = performance.now();
    loss = (await step.run(batch(frames))).total;
    seconds = Math.min(seconds, (performance.now() - stepStart) / 1000);
  }
  const estimate = estimateStepBytes(memory, { tracklets: frames, trainedFrames: 1 });
  measured.push({
    frames,
    heapMB: Math.round(heap() / MB),
    highestTensorByteMB: Math.round(highestByte / MB),
    estimateMB: Math.round(estimate.totalBytes / MB),
    stepSeconds: Math.round(seconds * 100) / 100,
    loss: Math.round(loss * 1e4) / 1e4,
  });
}
const [at8, at16] = measured as [(typeof measured)[0], (typeof measured)[0]];
const growth = (at16.heapMB - at8.heapMB) / 8;
const row = {
  date: new Date().toISOString(),
  backbone,
  size: `${height}x${width}`,
  configuration,
  loadAverage: loadavg().map((value) => Math.round(value * 100) / 100),
  probeSeconds: Math.round(probeSeconds * 10) / 10,
  estimate: {
    trainingMBPerFrame: Math.round((memory.trainingBytesPerFrame / MB) * 10) / 10,
    inferenceMBPerFrame: Math.round((memory.inferenceBytesPerFrame / MB) * 10) / 10,
    largestTensorMBPerFrame: Math.round((memory.largestTensorBytesPerFrame / MB) * 10) / 10,
    weightMB: Math.round(memory.weightBytes / MB),
  },
  wasmHeap: {
    atStartMB: Math.round(heapAtStart / MB),
    afterProbeMB: Math.round(heapAfterProbe / MB),
    highestTensorByteAfterProbeMB: Math.round(highestAfterProbe / MB),
    steps: measured,
  },
  // The figure compared with PyTorch: heap growth per frame between batch 8 and 16, and the estimate's slope.
  heapGrowthMBPerFrame: Math.round(growth * 10) / 10,
  highestTensorByteGrowthMBPerFrame: Math.round(((at16.highestTensorByteMB - at8.highestTensorByteMB) / 8) * 10) / 10,
  ratioEstimateToHeapGrowth: growth > 0 ? Math.round((memory.trainingBytesPerFrame / MB / growth) * 100) / 100 : null,
  ratioEstimateToHeapAt16: Math.round((at16.estimateMB / at16.heapMB) * 100) / 100,
};
console.log(JSON.stringify(row));
mkdirSync(dirname(out as string), { recursive: true });
const rows = existsSync(out as string) ? (JSON.parse(readFileSync(out as string, 'utf8')) as unknown[]) : [];
writeFileSync(out as string, `${JSON.stringify([...rows, row], null, 2)}\n`);
model.dispose();
optimizer.dispose();
