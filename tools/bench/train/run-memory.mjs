// Training memory per frame, ours vs PyTorch CPU, same machine, same run → tools/bench/train/results/memory.json.
// Ours (`step-memory.ts`, one process per configuration: the wasm heap never shrinks): the wasm heap and the top of
// the highest tensor buffer after teacher steps of batch 8 and 16, configurations `old` (training ops before
// progressive freeing), `new`, `recompute` (new + activation recomputation per ResNet stage), `recompute-conv` (new,
// conv outputs recomputed per unit instead of kept), with step times.
// PyTorch (`torch_train_step.py`, Debian python3-torch, 2 threads, one process per batch): peak RSS at batch 8 and 16.
// Per frame = (batch 16 − batch 8) / 8. Run it alone (it takes the machine for ~10 minutes):
//   flock /work/notes/bench.lock node tools/bench/train/run-memory.mjs [--only resnet18] [--out FILE]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { ROOT } from './bundle.mjs';

const HERE = join(ROOT, 'tools/bench/train');
const argument = (name) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);
const only = argument('--only');
const outFile = argument('--out') ?? join(HERE, 'results/memory.json');
const MODELS = [
  { backbone: 'resnet50', height: 256, width: 128 },
  { backbone: 'resnet18', height: 128, width: 64 },
].filter((model) => only === undefined || model.backbone === only);
const CONFIGURATIONS = ['old', 'new', 'recompute', 'recompute-conv'];
const BATCHES = [8, 16];

const round = (value, digits = 1) => (value === null ? null : Math.round(value * 10 ** digits) / 10 ** digits);
const load = () => loadavg().map((value) => round(value, 2));

function ours(model, configuration) {
  const out = join(ROOT, 'tools/bench/results/tmp/step-memory-rows.json');
  mkdirSync(join(ROOT, 'tools/bench/results/tmp'), { recursive: true });
  if (existsSync(out)) rmSync(out);
  execFileSync(
    'npx',
    [
      'tsx',
      '--conditions=@vkd/source',
      join(HERE, 'step-memory.ts'),
      model.backbone,
      String(model.height),
      String(model.width),
      configuration,
      '--out',
      out,
    ],
    { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  return JSON.parse(readFileSync(out, 'utf8'))[0];
}

function torch(model, batch) {
  const options = { workload: 'teacher', ...model, batch, steps: 1, warmup: 1, threads: 2, device: 'cpu' };
  const output = execFileSync('/usr/bin/python3', [join(HERE, 'torch_train_step.py'), JSON.stringify(options)], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return JSON.parse(output.trim().split('\n').at(-1));
}

const results = [];
for (const model of MODELS) {
  const name = `${model.backbone} ${model.height}x${model.width}`;
  console.error(`${name}: PyTorch`);
  const torchRuns = BATCHES.map((batch) => torch(model, batch));
  const [torch8, torch16] = torchRuns;
  const torchPerFrame = (torch16.peakRssMB - torch8.peakRssMB) / 8;
  const rows = CONFIGURATIONS.map((configuration) => {
    console.error(`${name}: ours, ${configuration}`);
    const row = ours(model, configuration);
    const [at8, at16] = row.wasmHeap.steps;
    return {
      configuration,
      loadAverage: row.loadAverage,
      heapMB: { 8: at8.heapMB, 16: at16.heapMB },
      highestTensorByteMB: { 8: at8.highestTensorByteMB, 16: at16.highestTensorByteMB },
      heapGrowthMBPerFrame: row.heapGrowthMBPerFrame,
      highestTensorByteGrowthMBPerFrame: row.highestTensorByteGrowthMBPerFrame,
      stepSeconds: { 8: at8.stepSeconds, 16: at16.stepSeconds },
      losses: { 8: at8.loss, 16: at16.loss },
      estimate: {
        trainingMBPerFrame: row.estimate.trainingMBPerFrame,
        totalMBAt16: at16.estimateMB,
        ratioToHeapAt16: row.ratioEstimateToHeapAt16,
      },
      vsTorchHeapGrowth: torchPerFrame > 0 ? round(row.heapGrowthMBPerFrame / torchPerFrame, 2) : null,
      vsTorchHighestTensorByteGrowth:
        torchPerFrame > 0 ? round(row.highestTensorByteGrowthMBPerFrame / torchPerFrame, 2) : null,
    };
  });
  const byName = Object.fromEntries(rows.map((row) => [row.configuration, row]));
  results.push({
    model: name,
    torch: {
      version: torch8.torch,
      threads: torch8.threads,
      peakRssMB: { 8: torch8.peakRssMB, 16: torch16.peakRssMB },
      rssGrowthMBPerFrame: round(torchPerFrame),
      msPerStep: { 8: torch8.msPerStep, 16: torch16.msPerStep },
      loadAverage: torch16.loadAverage,
    },
    ours: rows,
    // Time cost of recomputation: step time / new's (same process setup, same run).
    recomputeTimeRatio: {
      8: round(byName.recompute.stepSeconds[8] / byName.new.stepSeconds[8], 2),
      16: round(byName.recompute.stepSeconds[16] / byName.new.stepSeconds[16], 2),
    },
    recomputeConvTimeRatio: {
      8: round(byName['recompute-conv'].stepSeconds[8] / byName.new.stepSeconds[8], 2),
      16: round(byName['recompute-conv'].stepSeconds[16] / byName.new.stepSeconds[16], 2),
    },
  });
}

const report = {
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version, loadAverageAtEnd: load() },
  note: 'Per frame = (batch 16 − batch 8) / 8. Ours: wasm heap (HEAPU8.length; grows in steps of up to 20 % / 96 MiB, so coarse) and the top of the highest tensor buffer (byte-exact, fragmentation included); PyTorch: peak RSS (ru_maxrss), 2 threads. vsTorch* = ours / PyTorch per-frame growth (target ≤ 1.0). recomputeTimeRatio / recomputeConvTimeRatio = step time of recompute / recompute-conv over new.',
  results,
};
mkdirSync(dirname(outFile), { recursive: true });
writeFileSync(outFile, `${JSON.stringify(report, null, 2)}\n`);
console.log(JSON.stringify(report, null, 2));
