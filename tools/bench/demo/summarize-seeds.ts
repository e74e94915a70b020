// Summarises the per-seed demo runs under a `vkd demo --seeds` output directory (OUT/seed-<s>/metrics.json) with the
// same statistics as the command, e.g. for a run stopped before its last seed:
//   tsx --conditions=@vkd/source tools/bench/demo/summarize-seeds.ts OUT [summary.json [report-directory]]
// Seeds may come from several OUT directories: pass them joined by commas (the first with a finished seed is used).
import { access, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readMetrics } from '../../../packages/reference-trainer/src/run/run-files';
import { writeBenchmarkReport } from '../../../packages/reference-trainer/src/report/write-benchmark-report';
import {
  benchmarkVerdict,
  formatSeedBenchmark,
  seedBenchmark,
  type SeedRun,
} from '../../../packages/reference-trainer/src/report/seed-benchmark';

const [directories, output, reportDirectory] = process.argv.slice(2);
if (!directories) throw new Error('usage: summarize-seeds.ts OUT[,OUT2…] [summary.json [report-directory]]');
const found = new Map<number, string>();
for (const directory of directories.split(',')) {
  for (const name of await readdir(directory)) {
    const seed = /^seed-(\d+)$/.exec(name)?.[1];
    const finished = await access(join(directory, name, 'metrics.json')).then(
      () => true,
      () => false,
    );
    if (seed !== undefined && finished && !found.has(Number(seed))) found.set(Number(seed), join(directory, name));
  }
}
const seeds = [...found.keys()].sort((a, b) => a - b);
const runs: SeedRun[] = [];
for (const seed of seeds) {
  try {
    const metrics = await readMetrics(found.get(seed) as string);
    runs.push({
      seed,
      models: {
        teacher: metrics.teacher,
        student: metrics.student,
        baseline: metrics.baseline,
        kdOnly: metrics.ablation?.kdOnly,
        dpOnly: metrics.ablation?.dpOnly,
      },
    });
  } catch {
    console.log(`seed ${seed}: no metrics.json yet (unfinished), left out`);
  }
}
const benchmark = seedBenchmark(runs);
console.log(formatSeedBenchmark(benchmark));
console.log(benchmarkVerdict(benchmark));
const sources = Object.fromEntries(runs.map((run) => [run.seed, found.get(run.seed)]));
if (output) await writeFile(output, `${JSON.stringify({ sources, seeds: benchmark.seeds, benchmark }, null, 2)}\n`);
if (reportDirectory) console.log(`report: ${await writeBenchmarkReport(reportDirectory, benchmark, { sources })}`);
