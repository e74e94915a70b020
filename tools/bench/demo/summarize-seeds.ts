// Summarises the per-seed demo runs under a `vkd demo --seeds` output directory (OUT/seed-<s>/metrics.json) with the
// same statistics as the command, e.g. for a run stopped before its last seed:
//   tsx --conditions=@vkd/source tools/bench/demo/summarize-seeds.ts /tmp/vkd-demo-seeds [out.json]
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readMetrics } from '../../../packages/reference-trainer/src/run/run-files';
import { benchmarkVerdict, formatSeedBenchmark, seedBenchmark, type SeedRun } from '../../../packages/reference-trainer/src/report/seed-benchmark';

const [directory, output] = process.argv.slice(2);
if (!directory) throw new Error('usage: summarize-seeds.ts OUT [summary.json]');
const seeds = (await readdir(directory))
  .map((name) => /^seed-(\d+)$/.exec(name)?.[1])
  .filter((seed): seed is string => seed !== undefined)
  .map(Number)
  .sort((a, b) => a - b);
const runs: SeedRun[] = [];
for (const seed of seeds) {
  try {
    const metrics = await readMetrics(join(directory, `seed-${seed}`));
    runs.push({ seed, models: { teacher: metrics.teacher, student: metrics.student, baseline: metrics.baseline, kdOnly: metrics.ablation?.kdOnly, dpOnly: metrics.ablation?.dpOnly } });
  } catch {
    console.log(`seed ${seed}: no metrics.json yet (unfinished), left out`);
  }
}
const benchmark = seedBenchmark(runs);
console.log(formatSeedBenchmark(benchmark));
console.log(benchmarkVerdict(benchmark));
if (output) await writeFile(output, `${JSON.stringify({ directory, seeds: benchmark.seeds, benchmark }, null, 2)}\n`);
