import { spawn, type ChildProcess } from 'node:child_process';
import { watch } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (this file is tools/fault-injection/src/harness.ts). */
export const REPOSITORY = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');

/** Outcome classes of the reliability table (issue #13). */
export const OUTCOMES = [
  'data lost or corrupted',
  'silent wrong result',
  'unclear error or stack trace',
  'OOM crash',
  'hang',
  'clear typed error',
  'handled (correct result)',
] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** One attack: what was done, what happened, in which class. */
export interface AttackResult {
  readonly attack: string;
  readonly outcome: Outcome;
  readonly detail: string;
}

/** A finished `vkd` process. */
export interface ProcessResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Starts `vkd …` (or `vkd-metrics …` with `metrics: true`) from the sources, like `pnpm vkd`, in one process. */
export function startCli(
  args: readonly string[],
  options: { metrics?: boolean; cwd?: string } = {},
): ChildProcess & { result: Promise<ProcessResult> } {
  const cli = options.metrics ? 'packages/metrics/src/bin.ts' : 'packages/reference-trainer/src/cli.ts';
  // One process (node with tsx's loader), not the tsx wrapper: a SIGKILL must reach the process that writes.
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=@vkd/source', join(REPOSITORY, cli), ...args],
    {
      cwd: options.cwd ?? REPOSITORY,
      env: { ...process.env, CI: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const result = new Promise<ProcessResult>((done) =>
    child.on('close', (code, signal) => done({ code, signal, stdout, stderr })),
  );
  return Object.assign(child, { result });
}

/** Runs `vkd …` to the end. */
export function runCli(
  args: readonly string[],
  options: { metrics?: boolean; cwd?: string } = {},
): Promise<ProcessResult> {
  return startCli(args, options).result;
}

/**
 * The class of a failed command from its output: a V8 heap abort is an OOM crash, a JavaScript stack or
 * "unexpected error" is unclear, a one-line `vkd …: message` with exit 1 or 2 is a clear typed error.
 */
export function classifyFailure(result: ProcessResult): Outcome {
  const text = `${result.stdout}\n${result.stderr}`;
  if (/heap out of memory|Allocation failed/i.test(text) || result.signal === 'SIGABRT') return 'OOM crash';
  if (/unexpected error|\n\s+at .+:\d+:\d+\)?/.test(text) || result.signal !== null)
    return 'unclear error or stack trace';
  if ((result.code === 1 || result.code === 2) && /^vkd(-metrics)?[ :]/m.test(result.stderr))
    return 'clear typed error';
  return 'unclear error or stack trace';
}

/** A fresh temporary folder. */
export function temporaryFolder(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `vkd-fault-${prefix}-`));
}

/** The step totals of a JSONL training log by global step, as written (strings, for bit-exact comparison). */
export async function stepTotals(
  logPath: string,
): Promise<{ totals: Map<number, string>; duplicates: number; damaged: number }> {
  const text = await readFile(logPath, 'utf8');
  const totals = new Map<number, string>();
  let duplicates = 0;
  let damaged = 0;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let entry: { type?: string; globalStep?: number; total?: unknown };
    try {
      entry = JSON.parse(line);
    } catch {
      damaged += 1;
      continue;
    }
    if (entry.type !== 'step' || typeof entry.globalStep !== 'number') continue;
    if (totals.has(entry.globalStep)) duplicates += 1;
    // The raw text of the number: JSON.stringify of a double round-trips exactly.
    totals.set(entry.globalStep, JSON.stringify(entry.total));
  }
  if (!text.endsWith('\n') && text !== '') damaged += 1;
  return { totals, duplicates, damaged };
}

/** Resolves once `predicate(name)` is true for an entry created under `directory` (watched recursively), or `timeout`. */
export function whenEntryAppears(
  directory: string,
  predicate: (name: string) => boolean,
  timeoutMs: number,
): { promise: Promise<boolean>; close(): void } {
  let close = () => {};
  const promise = new Promise<boolean>((done) => {
    const timer = setTimeout(() => done(false), timeoutMs);
    try {
      const watcher = watch(directory, { recursive: true }, (_event, name) => {
        if (name && predicate(String(name))) {
          clearTimeout(timer);
          done(true);
        }
      });
      close = () => {
        clearTimeout(timer);
        watcher.close();
      };
    } catch {
      clearTimeout(timer);
      done(false);
    }
  });
  return { promise, close: () => close() };
}

/** Seeded uniform numbers in [0, 1) for reproducible kill times (Mulberry32). */
export function seededUniform(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

/** The attempts per outcome class as a Markdown table. */
export function formatTable(results: readonly AttackResult[]): string {
  const rows = OUTCOMES.map(
    (outcome) => `| ${outcome} | ${results.filter((result) => result.outcome === outcome).length} |`,
  );
  return ['| outcome | attempts |', '|---|---|', ...rows, `| **total** | ${results.length} |`].join('\n');
}
