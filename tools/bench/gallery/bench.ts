/**
 * Gallery benchmark: LanceDB gallery (@vkd/gallery) vs @vkd/metrics exact ranking, same synthetic Re-ID-like
 * embeddings, same queries, same run. Each scenario runs in a child process (own peak RSS).
 *   pnpm bench:gallery            # the full set (about 30–60 min on 2 cores)
 *   pnpm bench:gallery --quick    # 20k and 50k tracklets only
 * Writes tools/bench/results/gallery.json.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');
const quick = process.argv.includes('--quick');
const only = process.argv.find((argument) => argument.startsWith('--only='))?.slice('--only='.length);
// The first entry is the default (DEFAULT_SEARCH), also used for the evaluation through the index.
const settings = [
  { probes: 64, refineFactor: 10 },
  { probes: 32, refineFactor: 10 },
  { probes: 128, refineFactor: 10 },
  { probes: 64, refineFactor: 30 },
];
const sizes = quick
  ? [
      { dimension: 512, tracklets: 20_000 },
      { dimension: 512, tracklets: 50_000 },
    ]
  : [
      { dimension: 512, tracklets: 100_000 },
      { dimension: 512, tracklets: 300_000 },
      { dimension: 512, tracklets: 1_000_000 },
      { dimension: 2048, tracklets: 50_000 },
      { dimension: 2048, tracklets: 200_000 },
    ];
const output = path.join(root, 'tools/bench/results', quick ? 'gallery-quick.json' : 'gallery.json');
const previous = fs.existsSync(output)
  ? (JSON.parse(fs.readFileSync(output, 'utf8')) as { runs: unknown[] })
  : undefined;
const runs: Record<string, unknown>[] = [];
for (const size of sizes) {
  if (only !== undefined && `${size.dimension}x${size.tracklets}` !== only) continue;
  for (const kind of ['exact', 'index'] as const) {
    const scenario = { kind, ...size, queries: 200, settings, seed: 7 };
    process.stderr.write(`${kind} D=${size.dimension} G=${size.tracklets} …\n`);
    const text = execFileSync(
      process.execPath,
      ['--import', 'tsx', '--conditions=@vkd/source', path.join(here, 'run-scenario.ts'), JSON.stringify(scenario)],
      { cwd: root, encoding: 'utf8', maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const line = text.trim().split('\n').pop() as string;
    const result = JSON.parse(line) as Record<string, unknown>;
    runs.push(result);
    process.stderr.write(`${line}\n`);
    const key = (run: unknown) => {
      const { kind: k, dimension, tracklets } = run as { kind: string; dimension: number; tracklets: number };
      return `${k}/${dimension}/${tracklets}`;
    };
    // Runs of other sizes from an earlier `--only` call stay; runs of this call replace theirs.
    const kept = (previous?.runs ?? []).filter((run) => !runs.some((fresh) => key(fresh) === key(run)));
    fs.writeFileSync(
      output,
      `${JSON.stringify({ machine: machine(), date: new Date().toISOString(), runs: [...kept, ...runs] }, null, 2)}\n`,
    );
  }
}

function machine(): Record<string, unknown> {
  return { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version, loadAverage: os.loadavg() };
}
