/**
 * Training memory and CPU time of @vkd/models on wasm (+ @vkd/backends' fast kernels): peak `tf.memory().numBytes`
 * during one training step (forward + backward + SGD via optimizer.minimize, measured with tf.profile), the wasm heap
 * size after the steps (the heap only grows, so this is its peak), RSS, and the process CPU time per step (the
 * machine is shared: CPU time is the steadier measure; wasm is single-threaded in Node).
 *
 * Every setting runs in its own child process (fresh wasm heap; an out-of-memory crash is recorded, not fatal).
 * Run from the repository root:
 *   npx tsx tools/bench/models/train-memory.ts --label after [--only r18-128x64-b8,r50-256x128-b2] [--steps 3] [--merge]
 *     → tools/bench/models/results/train-memory-<label>.json (`--merge` keeps the rows of settings not run)
 *   npx tsx tools/bench/models/train-memory.ts --compare before after → tools/bench/models/results/train-memory.json
 *   npx tsx tools/bench/models/train-memory.ts --ab <before src dir> [--only ...] [--rounds 3] [--steps 4]
 *     → interleaved CPU-time comparison, tools/bench/models/results/train-memory-ab.json
 * `--impl <dir>` loads the model code from another copy of packages/models/src (for before/after runs; the "before"
 * runs used a copy of the committed packages/models/src, `git archive HEAD packages/models/src`).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const resultsDir = join(here, 'results');

interface Setting {
  id: string;
  backbone: 'resnet18' | 'resnet50';
  frames: number;
  height: number;
  width: number;
}

const SETTINGS: Setting[] = [
  { id: 'r18-128x64-b8', backbone: 'resnet18', frames: 8, height: 128, width: 64 },
  { id: 'r50-256x128-b2', backbone: 'resnet50', frames: 2, height: 256, width: 128 },
  { id: 'r50-256x128-b4', backbone: 'resnet50', frames: 4, height: 256, width: 128 },
  { id: 'r50-256x128-b8', backbone: 'resnet50', frames: 8, height: 256, width: 128 },
];

const argument = (name: string): string | undefined => {
  const index = process.argv.indexOf(name);
  return index >= 0 ? process.argv[index + 1] : undefined;
};

/** Mean of the values after the first (the first step is the profiled warm-up). */
function meanAfterFirst(values: number[]): number {
  const timed = values.length > 1 ? values.slice(1) : values;
  return Math.round(timed.reduce((sum, value) => sum + value, 0) / timed.length);
}

async function child(settingId: string, steps: number, impl: string): Promise<void> {
  const setting = SETTINGS.find((candidate) => candidate.id === settingId);
  if (!setting) throw new Error(`unknown setting ${settingId}`);
  const requireFromModels = createRequire(new URL('../../../packages/models/package.json', import.meta.url));
  const tf = requireFromModels('@tensorflow/tfjs-core') as typeof import('@tensorflow/tfjs-core');
  requireFromModels('@tensorflow/tfjs-layers');
  requireFromModels('@tensorflow/tfjs-backend-wasm');
  const { registerFastKernels } = await import('../../../packages/backends/src/index');
  const models = (await import(
    pathToFileURL(join(impl, 'index.ts')).href
  )) as typeof import('../../../packages/models/src/index');
  tf.enableProdMode();
  if (!(await tf.setBackend('wasm'))) throw new Error('wasm backend unavailable');
  await tf.ready();
  registerFastKernels('wasm');
  const heapBytes = () => (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.length;
  const numIdentities = 625;
  const model = models.createReidModel({ backbone: setting.backbone, numIdentities });
  const input = tf.randomNormal([setting.frames, 1, setting.height, setting.width, 3], 0, 1, 'float32', 1);
  const labels = tf.oneHot(
    tf.tensor1d(
      Array.from({ length: setting.frames }, (_, i) => i % numIdentities),
      'int32',
    ),
    numIdentities,
  );
  const optimizer = tf.train.sgd(1e-3);
  const heapBefore = heapBytes();
  const bytesBefore = tf.memory().numBytes;
  const tensorsBefore = tf.memory().numTensors;
  const losses: number[] = [];
  const cpuMs: number[] = [];
  const wallMs: number[] = [];
  let peakBytes = 0;
  for (let step = 0; step < steps; step++) {
    const cpu = process.cpuUsage();
    const start = performance.now();
    const run = async () => {
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
      losses.push((await loss!.data())[0] as number);
      loss!.dispose();
    };
    // The first step is profiled (peak bytes; kernel bookkeeping only), the others are timed.
    if (step === 0) peakBytes = (await tf.profile(run)).peakBytes;
    else await run();
    const used = process.cpuUsage(cpu);
    cpuMs.push(Math.round((used.user + used.system) / 1000));
    wallMs.push(Math.round(performance.now() - start));
  }
  const result = {
    setting,
    steps,
    losses,
    cpuMsPerStep: cpuMs,
    wallMsPerStep: wallMs,
    /** Mean CPU time of the steps after the first (profiled, warm-up) one. */
    meanCpuMs: meanAfterFirst(cpuMs),
    peakTensorBytesMB: Math.round((peakBytes - bytesBefore) / 2 ** 20),
    wasmHeapMB: Math.round(heapBytes() / 2 ** 20),
    wasmHeapBeforeStepsMB: Math.round(heapBefore / 2 ** 20),
    rssMB: Math.round(process.memoryUsage().rss / 2 ** 20),
    leakedTensors: tf.memory().numTensors - tensorsBefore,
  };
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
}

/** The wasm abort (malloc failure: the heap cannot grow past 4 GiB) and the first JS error, from a child's stderr. */
function crashReason(stderr: string): string {
  const lines = stderr.split('\n').filter((line) => /^Aborted\(|^[A-Za-z]*Error: /.test(line));
  return lines.length > 0 ? lines.slice(0, 2).join(' → ') : stderr.slice(-300);
}

/** Runs one setting in a fresh process; a crash becomes `{ setting, error, exitCode }`. */
function runChild(setting: Setting, steps: number, impl: string): Row {
  const run = spawnSync(
    process.execPath,
    [
      ...process.execArgv,
      fileURLToPath(import.meta.url),
      '--child',
      setting.id,
      '--steps',
      String(steps),
      '--impl',
      impl,
    ],
    {
      encoding: 'utf8',
      maxBuffer: 64 * 2 ** 20,
    },
  );
  const line = run.stdout.split('\n').find((text) => text.startsWith('RESULT '));
  return line
    ? (JSON.parse(line.slice('RESULT '.length)) as Row)
    : { setting, error: crashReason(run.stderr), exitCode: run.status };
}

/**
 * Interleaved CPU-time comparison (before, after, before, after, ...) of a few settings, so that a change in the
 * machine's load affects both sides alike → results/train-memory-ab.json.
 */
function interleaved(beforeImpl: string, afterImpl: string, only: string[], rounds: number, steps: number): void {
  const rows = SETTINGS.filter((setting) => only.includes(setting.id)).map((setting) => {
    const cpu: { before: number[]; after: number[] } = { before: [], after: [] };
    for (let round = 0; round < rounds; round++) {
      for (const side of ['before', 'after'] as const) {
        const row = runChild(setting, steps, side === 'before' ? beforeImpl : afterImpl);
        if (row.cpuMsPerStep) cpu[side].push(meanAfterFirst(row.cpuMsPerStep));
      }
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
    const result = {
      setting: setting.id,
      cpuMsPerStep: cpu,
      medianBefore: median(cpu.before),
      medianAfter: median(cpu.after),
      cpuTimeRatio: Math.round((median(cpu.before) / median(cpu.after)) * 100) / 100,
    };
    console.log(JSON.stringify(result));
    return result;
  });
  // Rows of other settings from earlier runs are kept (each row records its own date, rounds and load).
  const file = join(resultsDir, 'train-memory-ab.json');
  const stamped = rows.map((row) => ({
    ...row,
    date: new Date().toISOString(),
    rounds,
    stepsPerRun: steps,
    loadAverage: os.loadavg(),
  }));
  const earlier = existsSync(file)
    ? (JSON.parse(readFileSync(file, 'utf8')) as { rows: Array<{ setting: string }> }).rows
    : [];
  const kept = earlier.filter((row) => !stamped.some((fresh) => fresh.setting === row.setting));
  writeFileSync(file, `${JSON.stringify({ rows: [...kept, ...stamped] }, null, 2)}\n`);
  console.log('wrote', file);
}

function driver(label: string, only: string[] | undefined, steps: number, impl: string, merge: boolean): void {
  const results: unknown[] = [];
  for (const setting of SETTINGS) {
    if (only && !only.includes(setting.id)) continue;
    const started = Date.now();
    const result = runChild(setting, steps, impl);
    console.log(setting.id, `${Math.round((Date.now() - started) / 1000)} s`, JSON.stringify(result));
    results.push(result);
  }
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `train-memory-${label}.json`);
  if (merge && existsSync(file)) {
    // Keep the rows of the settings not run this time.
    const previous = (JSON.parse(readFileSync(file, 'utf8')) as { results: Row[] }).results;
    const ran = new Set((results as Row[]).map((row) => row.setting.id));
    const order = (row: Row) => SETTINGS.findIndex((setting) => setting.id === row.setting.id);
    results.splice(
      0,
      results.length,
      ...[...previous.filter((row) => !ran.has(row.setting.id)), ...(results as Row[])].sort(
        (a, b) => order(a) - order(b),
      ),
    );
  }
  writeFileSync(
    file,
    `${JSON.stringify({ date: new Date().toISOString(), label, impl, loadAverage: os.loadavg(), node: process.version, results }, null, 2)}\n`,
  );
  console.log('wrote', file);
}

type Row = {
  setting: Setting;
  cpuMsPerStep?: number[];
  exitCode?: number | null;
  peakTensorBytesMB?: number;
  wasmHeapMB?: number;
  rssMB?: number;
  error?: string;
};

function compare(beforeLabel: string, afterLabel: string): void {
  const load = (label: string) =>
    JSON.parse(readFileSync(join(resultsDir, `train-memory-${label}.json`), 'utf8')) as { results: Row[] };
  const before = load(beforeLabel).results;
  const after = load(afterLabel).results;
  const ratio = (a?: number, b?: number) => (a && b ? Math.round((a / b) * 100) / 100 : null);
  const rows = after.map((afterRow) => {
    const beforeRow = before.find((row) => row.setting.id === afterRow.setting.id);
    return {
      setting: afterRow.setting.id,
      before: beforeRow ?? null,
      after: afterRow,
      /** before ÷ after: > 1 means the new code uses less. */
      peakTensorBytesRatio: ratio(beforeRow?.peakTensorBytesMB, afterRow.peakTensorBytesMB),
      wasmHeapRatio: ratio(beforeRow?.wasmHeapMB, afterRow.wasmHeapMB),
      cpuTimeRatio: ratio(
        beforeRow?.cpuMsPerStep && meanAfterFirst(beforeRow.cpuMsPerStep),
        afterRow.cpuMsPerStep && meanAfterFirst(afterRow.cpuMsPerStep),
      ),
    };
  });
  const file = join(resultsDir, 'train-memory.json');
  writeFileSync(
    file,
    `${JSON.stringify({ date: new Date().toISOString(), before: beforeLabel, after: afterLabel, rows }, null, 2)}\n`,
  );
  for (const row of rows)
    console.log(
      row.setting,
      'peak tensor bytes ×',
      row.peakTensorBytesRatio,
      'wasm heap ×',
      row.wasmHeapRatio,
      'cpu ×',
      row.cpuTimeRatio,
    );
  console.log('wrote', file);
}

const impl = resolve(argument('--impl') ?? join(here, '../../../packages/models/src'));
if (!existsSync(join(impl, 'index.ts'))) throw new Error(`--impl ${impl} has no index.ts`);
const steps = Number(argument('--steps') ?? 3);
if (process.argv.includes('--child')) await child(argument('--child')!, steps, impl);
else if (process.argv.includes('--ab'))
  interleaved(
    resolve(argument('--ab')!),
    impl,
    (argument('--only') ?? 'r18-128x64-b8').split(','),
    Number(argument('--rounds') ?? 3),
    steps,
  );
else if (process.argv.includes('--compare'))
  compare(argument('--compare')!, process.argv[process.argv.indexOf('--compare') + 2]!);
else
  driver(argument('--label') ?? 'after', argument('--only')?.split(','), steps, impl, process.argv.includes('--merge'));
