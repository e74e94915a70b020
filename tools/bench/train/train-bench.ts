// One benchmark process: builds a ReidModel on the selected backend and times training steps (Adam, CE + triplet),
// distillation steps or feature extraction. Prints one JSON object on the last stdout line.
// Usage: node train-bench.mjs '{"device":"wasm","workload":"teacher","backbone":"resnet18","height":128,"width":64,"batch":8,"steps":5,"warmup":2}'
import { loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import {
  SOFTWARE_WEBGPU,
  convolutionThreads,
  selectBackend,
  setConvolutionThreads,
  unregisterFastKernels,
} from '@vkd/backends';
import type { Device } from '@vkd/backends';
import { teacherObjective, vkdObjective } from '@vkd/losses';
import { createReidModel } from '@vkd/models';
import { adamWithL2 } from '@vkd/trainer';
import type { AdamUpdateMode } from '@vkd/trainer';
import { startCpuProfile } from './cpu-profile';

interface BenchOptions {
  device: Device;
  /** 'software' = WebGPU on Mesa llvmpipe (CI check of the bundle). */
  webgpu?: 'default' | 'software';
  workload: 'teacher' | 'distill' | 'extract';
  backbone: 'resnet18' | 'resnet34' | 'resnet50' | 'resnet101';
  height: number;
  width: number;
  /** teacher/extract: frames per step; distill: student frames (teacher sees `teacherFrames`). */
  batch: number;
  /** Frames per tracklet; the batch is [batch/T, T, H, W, 3]. Default 1 (plain images). */
  framesPerTracklet?: number;
  teacherFrames?: number;
  numIdentities?: number;
  baseWidth?: number;
  steps: number;
  warmup: number;
  /** false: run on the backend's original kernels (to measure what @vkd/backends' kernels bring). Default true. */
  fastKernels?: boolean;
  /**
   * false: without @vkd/backends' fused training kernels (BatchNorm units, Adam), i.e. the models and Adam composed
   * from tfjs ops, to measure old and new in one run. Default true.
   */
  fused?: boolean;
  /** Wall-time kernel profile (tf.profile) of one extra step: GPU backends. */
  profile?: boolean;
  /** CPU-time kernel profile of one extra step: wasm/cpu (see cpu-profile.ts). */
  cpuProfile?: boolean;
  /** How @vkd/trainer's Adam updates the weights (default 'auto': grouped on GPUs, per variable on wasm). */
  adam?: AdamUpdateMode;
  /** Threads of the wasm convolution kernels (default: all hardware threads). */
  threads?: number;
  /** tfjs environment flags to set before the first step, e.g. {"WEBGPU_USE_NAIVE_CONV2D_TRANSPOSE": false}. */
  flags?: Record<string, boolean | number>;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function randomBatch(frames: number, t: number, height: number, width: number): tf.Tensor {
  const shape = t === 1 ? [frames, height, width, 3] : [frames / t, t, height, width, 3];
  return tf.randomNormal(shape, 0, 1, 'float32', 7);
}

/** P×K labels: identities 0..P−1, each repeated K times (K = 4, as in batch-hard sampling). */
function labelsFor(tracklets: number): tf.Tensor1D {
  const k = tracklets >= 8 ? 4 : 2;
  return tf.tensor1d(
    Array.from({ length: tracklets }, (_, i) => Math.floor(i / k)),
    'int32',
  );
}

/** Size of the wasm backend's heap (it grows, never shrinks; at most 4 GiB), or undefined on other backends. */
function wasmHeapBytes(): number | undefined {
  return (tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } }).wasm?.HEAPU8?.length;
}

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as BenchOptions;
  tf.enableProdMode();
  const selected = await selectBackend({
    device: options.device,
    webgpu: options.webgpu === 'software' ? SOFTWARE_WEBGPU : undefined,
  });
  if (options.fastKernels === false) unregisterFastKernels(selected.backend);
  else if (options.fused === false) unregisterFastKernels(selected.backend, { fused: 'only' });
  for (const [flag, value] of Object.entries(options.flags ?? {})) tf.env().set(flag, value);
  if (options.threads !== undefined) setConvolutionThreads(options.threads);
  const t = options.framesPerTracklet ?? 1;
  const numIdentities = options.numIdentities ?? 625;
  const modelOptions = {
    backbone: options.backbone,
    numIdentities,
    lastStride: 1 as const,
    baseWidth: options.baseWidth ?? 64,
    seed: 1,
  };
  const model = createReidModel(modelOptions);
  const teacher = options.workload === 'distill' ? createReidModel({ ...modelOptions, seed: 2 }) : undefined;
  // The trainer's optimiser (PyTorch-style Adam, lr 1e-4, L2 1e-5), as `vkd train-teacher` runs it.
  const optimizer = adamWithL2({ update: options.adam ?? 'auto' });
  const frames = randomBatch(options.batch, t, options.height, options.width);
  const teacherInput = teacher
    ? randomBatch(
        options.teacherFrames ?? options.batch * 4,
        (options.teacherFrames ?? options.batch * 4) / (options.batch / t),
        options.height,
        options.width,
      )
    : undefined;
  const labels = labelsFor(options.batch / t);
  const variables = model.trainableVariables();

  const step = async (): Promise<number> => {
    if (options.workload === 'extract') {
      const out = model.forward(frames, { training: false });
      const data = await out.embeddings.data();
      tf.dispose([out.embeddings, out.logits]);
      return data[0]!;
    }
    const { value: cost, grads } = tf.variableGrads(() => {
      const student = model.forward(frames, { training: true });
      if (teacher === undefined || teacherInput === undefined) {
        return teacherObjective({ embeddings: student.embeddings, logits: student.logits, labels }).total;
      }
      const frozen = teacher.forward(teacherInput, { training: true, batchNorm: 'batch-stats-frozen' });
      return vkdObjective({ teacher: frozen, student, labels }).total;
    }, variables);
    const value = (await cost.data())[0]!;
    await optimizer.applyGradients(
      variables,
      variables.map((variable) => grads[variable.name]!),
    );
    tf.dispose([cost, ...Object.values(grads)]);
    return value;
  };

  const losses: number[] = [];
  for (let i = 0; i < options.warmup; i++) losses.push(await step());
  const tensorsAfterWarmup = tf.memory().numTensors;
  const bytesAfterWarmup = tf.memory().numBytes;
  const gpuBytesAfterWarmup = (tf.memory() as tf.MemoryInfo & { numBytesInGPU?: number }).numBytesInGPU;
  const times: number[] = [];
  const cpuTimes: number[] = [];
  let peakRss = process.memoryUsage().rss;
  for (let i = 0; i < options.steps; i++) {
    const start = performance.now();
    const cpuStart = process.cpuUsage();
    losses.push(await step());
    times.push(performance.now() - start);
    const cpu = process.cpuUsage(cpuStart);
    cpuTimes.push((cpu.user + cpu.system) / 1000);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }
  let profile: Array<{ kernel: string; ms: number; calls: number }> | undefined;
  let kernelsPerStep: number | undefined;
  if (options.profile) {
    const info = await tf.profile(async () => {
      await step();
    });
    kernelsPerStep = info.kernels.length;
    const byKernel = new Map<string, { ms: number; calls: number }>();
    for (const k of info.kernels) {
      const entry = byKernel.get(k.name) ?? { ms: 0, calls: 0 };
      entry.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
      entry.calls += 1;
      byKernel.set(k.name, entry);
    }
    profile = [...byKernel]
      .map(([kernel, v]) => ({ kernel, ms: Math.round(v.ms), calls: v.calls }))
      .sort((a, b) => b.ms - a.ms)
      .slice(0, 12);
  }
  let cpuProfile: ReturnType<ReturnType<typeof startCpuProfile>> | undefined;
  if (options.cpuProfile) {
    const stop = startCpuProfile(selected.backend);
    const cpuStart = process.cpuUsage();
    await step();
    const used = process.cpuUsage(cpuStart);
    cpuProfile = [
      { kernel: '(whole step)', cpuMs: Math.round((used.user + used.system) / 1000), calls: 1 },
      ...stop().slice(0, 15),
    ];
  }
  const memory = tf.memory() as tf.MemoryInfo & { numBytesInGPU?: number; numBytesAllocatedInGPU?: number };
  const ms = median(times);
  const imagesPerStep =
    options.workload === 'distill' ? options.batch + (options.teacherFrames ?? options.batch * 4) : options.batch;
  console.log(
    JSON.stringify({
      ...options,
      backend: selected.backend,
      tried: selected.tried,
      fastKernels: tf
        .getKernelsForBackend(selected.backend)
        .filter((k) => selected.fastKernels.kernels.includes(k.kernelName))
        .map((k) => k.kernelName),
      adapter: selected.adapter,
      convolutionThreads: selected.backend === 'wasm' ? convolutionThreads() : undefined,
      loadAverage: loadavg().map((x) => Math.round(x * 100) / 100),
      msPerStep: Math.round(ms * 10) / 10,
      // CPU time of this process per step (all its threads): on a shared machine, less sensitive to others' load.
      cpuMsPerStep: Math.round(median(cpuTimes)),
      imagesPerSecond: Math.round((imagesPerStep / (ms / 1000)) * 100) / 100,
      stepTimesMs: times.map((x) => Math.round(x)),
      losses: losses.map((x) => Math.round(x * 1e4) / 1e4),
      memory: {
        peakRssMB: Math.round(peakRss / 2 ** 20),
        tensorsAfterWarmup,
        tensorsAtEnd: memory.numTensors,
        bytesAfterWarmup,
        bytesAtEnd: memory.numBytes,
        wasmHeapMB: wasmHeapBytes() === undefined ? undefined : Math.round(wasmHeapBytes()! / 2 ** 20),
        gpuBytesAfterWarmup,
        gpuBytesAtEnd: memory.numBytesInGPU,
        gpuBytesAllocatedAtEnd: memory.numBytesAllocatedInGPU,
      },
      kernelsPerStep,
      profile,
      cpuProfile,
    }),
  );
  optimizer.dispose();
  tf.dispose([frames, labels, ...(teacherInput ? [teacherInput] : [])]);
  model.dispose();
  teacher?.dispose();
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
