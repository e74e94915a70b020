// Throughput of @vkd/backends' WebAssembly SIMD convolution engine (ADR 0004) on the ResNet-18 128×64 and
// ResNet-50 256×128 layer shapes (batch 8): forward, input gradient and filter gradient, on 1 and 2 threads, wall
// time per call (best of 5 after a warm-up) and GFLOP/s. Writes results/conv-engine.json.
// Usage (repository root): npx tsx --conditions=@vkd/source tools/bench/train/conv-engine-bench.ts [--quick]
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { WasmConvEngine, type ConvShape } from '../../../packages/backends/src/kernels/wasm-conv-engine';

// [name, N, H, W, Ci, Co, k, stride, pad]
type Layer = [string, number, number, number, number, number, number, number, number];
const RESNET18: Layer[] = [
  ['r18 stem 7x7/2 3→64', 8, 128, 64, 3, 64, 7, 2, 3],
  ['r18 layer1 3x3 64', 8, 32, 16, 64, 64, 3, 1, 1],
  ['r18 layer2.0 3x3/2 64→128', 8, 32, 16, 64, 128, 3, 2, 1],
  ['r18 layer2.0 1x1/2 64→128', 8, 32, 16, 64, 128, 1, 2, 0],
  ['r18 layer2 3x3 128', 8, 16, 8, 128, 128, 3, 1, 1],
  ['r18 layer3 3x3 256', 8, 8, 4, 256, 256, 3, 1, 1],
  ['r18 layer4 3x3 512 (last stride 1)', 8, 8, 4, 512, 512, 3, 1, 1],
];
const RESNET50: Layer[] = [
  ['r50 stem 7x7/2 3→64', 8, 256, 128, 3, 64, 7, 2, 3],
  ['r50 layer1 3x3 64', 8, 64, 32, 64, 64, 3, 1, 1],
  ['r50 layer1 1x1 64→256', 8, 64, 32, 64, 256, 1, 1, 0],
  ['r50 layer1 1x1 256→64', 8, 64, 32, 256, 64, 1, 1, 0],
  ['r50 layer2 3x3 128', 8, 32, 16, 128, 128, 3, 1, 1],
  ['r50 layer3 3x3 256', 8, 16, 8, 256, 256, 3, 1, 1],
  ['r50 layer3 1x1 1024→256', 8, 16, 8, 1024, 256, 1, 1, 0],
  ['r50 layer4 3x3 512 (last stride 1)', 8, 16, 8, 512, 512, 3, 1, 1],
  ['r50 layer4 1x1 512→2048', 8, 16, 8, 512, 2048, 1, 1, 0],
  ['r50 layer4 1x1 2048→512', 8, 16, 8, 2048, 512, 1, 1, 0],
];

function shapeOf([, n, h, w, ci, co, k, stride, pad]: Layer): ConvShape {
  const out = (size: number) => Math.floor((size + 2 * pad - k) / stride) + 1;
  return {
    batch: n,
    inHeight: h,
    inWidth: w,
    inChannels: ci,
    outHeight: out(h),
    outWidth: out(w),
    outChannels: co,
    filterHeight: k,
    filterWidth: k,
    strideHeight: stride,
    strideWidth: stride,
    padTop: pad,
    padLeft: pad,
  };
}

function best(run: () => void, repeats: number): number {
  run();
  let fastest = Infinity;
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    run();
    fastest = Math.min(fastest, performance.now() - start);
  }
  return fastest;
}

const quick = process.argv.includes('--quick');
const rows = [];
for (const threads of [1, 2]) {
  const engine = WasmConvEngine.create(threads);
  if (engine === null) throw new Error('no WebAssembly SIMD in this runtime');
  for (const layer of quick ? RESNET18.slice(0, 2) : [...RESNET18, ...RESNET50]) {
    const s = shapeOf(layer);
    const random = (size: number) => Float32Array.from({ length: size }, (_, i) => Math.sin(i * 12.9898) * 0.5);
    const x = random(s.batch * s.inHeight * s.inWidth * s.inChannels);
    const w = random(s.filterHeight * s.filterWidth * s.inChannels * s.outChannels);
    const out = new Float32Array(s.batch * s.outHeight * s.outWidth * s.outChannels);
    const dx = new Float32Array(x.length);
    const dw = new Float32Array(w.length);
    const gflop =
      (2 * s.batch * s.outHeight * s.outWidth * s.filterHeight * s.filterWidth * s.inChannels * s.outChannels) / 1e9;
    const repeats = quick ? 2 : 5;
    const ms = {
      forward: best(() => engine.forward(s, x, w, out), repeats),
      inputGradient: s.inChannels % 8 === 0 ? best(() => engine.inputGradient(s, out, w, dx), repeats) : undefined,
      filterGradient: best(() => engine.filterGradient(s, x, out, dw), repeats),
    };
    const row = {
      layer: layer[0],
      threads,
      gflop: Math.round(gflop * 1000) / 1000,
      ms: Object.fromEntries(
        Object.entries(ms).map(([k, v]) => [k, v === undefined ? null : Math.round(v * 100) / 100]),
      ),
      gflopsPerSecond: Object.fromEntries(
        Object.entries(ms).map(([k, v]) => [k, v === undefined ? null : Math.round(gflop / (v / 1000))]),
      ),
    };
    console.error(JSON.stringify(row));
    rows.push(row);
  }
}
const file = join(import.meta.dirname, 'results', quick ? 'conv-engine-quick.json' : 'conv-engine.json');
mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
writeFileSync(
  file,
  `${JSON.stringify({ date: new Date().toISOString(), machine: { cpus: cpus().length, model: cpus()[0]?.model, loadAverageAtEnd: loadavg(), node: process.version }, rows }, null, 2)}\n`,
);
console.error(`wrote ${file}`);
