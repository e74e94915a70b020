/**
 * Benchmark of the @vkd/datasets training image pipeline (createTrackletLoader: sharp decode → resize to 256×128 →
 * pad 10 + random crop → flip → ImageNet normalisation → random erasing, 'chunk' strategy, P×K batches of T frames)
 * against PIL + torchvision transforms in a DataLoader (torch_pipeline.py) on the same files and batches, with the
 * same number of workers (1, 2, …, all cores), in the same run, alternating ours / PyTorch. Ours also runs with
 * `workers: 0` (no worker threads: decodes on the libuv pool, JS on the main thread). Two scenarios: MARS-native
 * 256×128 JPEGs (no resampling), and 128×64 JPEGs enlarged to 256×128 (resize 'pillow' = bit-identical JS port, and
 * 'sharp' = libvips). The load average is recorded before and after each scenario.
 * Writes tools/bench/images/results/images.json (images-small.json with --small).
 * Run: pnpm bench:images [--small]
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createIdentitySampler, generateSyntheticDataset, loadDataset } from '../../../packages/datasets/src/index';
import { createTrackletLoader } from '../../../packages/datasets/src/node';
import type { ReadImageOptions } from '../../../packages/datasets/src/node';

const small = process.argv.includes('--small');
const here = path.dirname(fileURLToPath(import.meta.url));
const [height, width] = [256, 128];
const framesPerTracklet = 8;
const repeats = small ? 1 : 3;
const allCores = os.availableParallelism();
const workerCounts = [...new Set([1, 2, allCores])].sort((a, b) => a - b);
const loadAverage = () => os.loadavg().map((v) => Number(v.toFixed(2)));
const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vkd-bench-images-'));

async function scenario(name: string, sourceSize: [number, number], resizeModes: ReadImageOptions['resize'][]) {
  const generateStart = performance.now();
  const { root } = await generateSyntheticDataset({
    root: path.join(workDir, name),
    identities: small ? 16 : 32,
    cameras: 4,
    trackletsPerIdentity: 2,
    framesPerTracklet: 16,
    height: sourceSize[0],
    width: sourceSize[1],
    trainIdentities: small ? 15 : 31,
    seed: 1,
  });
  const generateSeconds = (performance.now() - generateStart) / 1000;
  const dataset = await loadDataset('mars', { root });
  const sampler = createIdentitySampler(dataset.train, { identitiesPerBatch: 8, instancesPerIdentity: 4, seed: 1 });
  const batches = [sampler.nextEpoch(), sampler.nextEpoch()].flat().slice(0, small ? 2 : 6);
  const totalFrames = batches.length * 32 * framesPerTracklet;
  const config = path.join(workDir, `${name}.json`);
  fs.writeFileSync(
    config,
    JSON.stringify({
      tracklets: dataset.train.map((t) => t.frames),
      batches,
      frames: framesPerTracklet,
      height,
      width,
      repeats: 1,
    }),
  );
  // keys: `${resize} w${workers}`; PyTorch: `w${workers}`
  const typescript: Record<string, number[]> = {};
  const pytorch: Record<string, number[]> = {};
  let pythonInfo: Record<string, unknown> = {};
  const runTypescript = async (resize: ReadImageOptions['resize'], workers: number) => {
    const start = performance.now();
    let frames = 0;
    const loader = createTrackletLoader({
      tracklets: dataset.train,
      batches,
      framesPerTracklet,
      strategy: 'chunk',
      imageSize: [height, width],
      augment: true,
      seed: 2,
      resize,
      workers,
    });
    for await (const batch of loader) frames += batch.shape[0] * batch.shape[1];
    return frames / ((performance.now() - start) / 1000);
  };
  const runPytorch = (workers: number) => {
    const output = JSON.parse(
      execFileSync('/usr/bin/python3', [path.join(here, 'torch_pipeline.py'), config, String(workers)], {
        encoding: 'utf8',
      })
        .trim()
        .split('\n')
        .pop() as string,
    );
    pythonInfo = { torch: output.torch, torchvision: output.torchvision, threads: output.threads };
    return output.framesPerSecond[0] as number;
  };
  const record = (table: Record<string, number[]>, key: string, value: number) => {
    table[key] ??= [];
    table[key].push(value);
  };
  const loadBefore = loadAverage();
  await runTypescript(resizeModes[0], 1); // warm-up (sharp/libvips initialisation)
  for (let repeat = 0; repeat < repeats; repeat++) {
    for (const mode of resizeModes) record(typescript, `${mode} w0`, await runTypescript(mode, 0));
    for (const workers of workerCounts) {
      for (const mode of resizeModes) record(typescript, `${mode} w${workers}`, await runTypescript(mode, workers));
      record(pytorch, `w${workers}`, runPytorch(workers));
    }
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
  const summarise = (table: Record<string, number[]>) =>
    Object.fromEntries(
      Object.entries(table).map(([key, values]) => [
        key,
        { median: Number(median(values).toFixed(1)), runs: values.map((v) => Number(v.toFixed(1))) },
      ]),
    );
  const result = {
    scenario: name,
    sourceSize,
    outputSize: [height, width],
    framesPerRun: totalFrames,
    batch: '8 identities × 4 tracklets × 8 frames',
    generateSeconds: Number(generateSeconds.toFixed(2)),
    loadAverageBefore: loadBefore,
    loadAverageAfter: loadAverage(),
    typescriptFramesPerSecond: summarise(typescript),
    pytorchFramesPerSecond: summarise(pytorch),
    // ours / PyTorch with the same number of workers (medians of this run)
    ratio: Object.fromEntries(
      Object.entries(typescript).flatMap(([key, values]) => {
        const reference = pytorch[key.split(' ')[1] as string];
        return reference ? [[key, Number((median(values) / median(reference)).toFixed(2))]] : [];
      }),
    ),
    python: pythonInfo,
  };
  console.log(JSON.stringify(result));
  return result;
}

const scenarios = [
  await scenario('mars-native-256x128', [256, 128], ['pillow']),
  await scenario('enlarge-128x64', [128, 64], ['pillow', 'sharp']),
];
const results = {
  date: new Date().toISOString(),
  machine: {
    cpus: os.cpus().length,
    model: os.cpus()[0]?.model,
    loadAverageAtEnd: loadAverage(),
    node: process.version,
    uvThreadpool: process.env.UV_THREADPOOL_SIZE ?? '4 (default)',
  },
  note: 'Loader throughput only (the consumer does no work). Keys "<resize> w<N>": createTrackletLoader with workers N (frame worker threads; w0 = none: libuv-pool decodes, JS on the main thread), prefetch 2; PyTorch "w<N>": DataLoader num_workers=N, same tracklets, batches and T. ratio = ours / PyTorch with the same N, medians of this run.',
  scenarios,
};
fs.mkdirSync(path.join(here, 'results'), { recursive: true });
const file = path.join(here, 'results', small ? 'images-small.json' : 'images.json');
fs.writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
fs.rmSync(workDir, { recursive: true, force: true });
console.log(`wrote ${file}`);
