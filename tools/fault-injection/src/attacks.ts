import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { readMatFile } from '../../../packages/datasets/src/mat-file';
import { writeMatFile } from '../../../packages/datasets/src/mat-file-writer';
import {
  classifyFailure,
  runCli,
  seededUniform,
  startCli,
  stepTotals,
  whenEntryAppears,
  type AttackResult,
  type Outcome,
  type ProcessResult,
} from './harness';

/** Steps of the reference run: 8 training identities, P = 2 → 4 batches per epoch, 12 epochs. */
const EPOCHS = 12;

/** Shared inputs of every attack: a tiny data set and an uninterrupted reference run. */
export interface Fixture {
  readonly base: string;
  readonly data: string;
  readonly reference: string;
  readonly totals: Map<number, string>;
  readonly weights: Buffer;
}

/** Where runs go: tmpfs when there is one (checkpoints are fsync'ed; a disk makes each one cost a second). */
let session: string | undefined;
export async function workFolder(prefix: string): Promise<string> {
  session ??= await mkdtemp(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'vkd-fault-'));
  return mkdtemp(join(session, `${prefix}-`));
}

export function teacherArgs(fixture: Pick<Fixture, 'data'>, out: string, extra: readonly string[] = []): string[] {
  return [
    'train-teacher',
    '--dataset',
    'synthetic',
    '--root',
    fixture.data,
    '--out',
    out,
    '--device',
    'cpu',
    '--quiet',
    '--backbone',
    'resnet18',
    '--base-width',
    '4',
    '--height',
    '16',
    '--width',
    '16',
    '--epochs',
    String(EPOCHS),
    '--identities-per-batch',
    '2',
    '--instances-per-identity',
    '1',
    '--frames-per-tracklet',
    '1',
    '--eval-every',
    '0',
    '--no-augment',
    '--save-every',
    '1',
    ...extra,
  ];
}

/** `vkd datasets generate` options of the fixture's set (16 identities, 2 cameras, 16×16). */
export const GENERATE = [
  '--identities',
  '16',
  '--cameras',
  '2',
  '--tracklets-per-identity',
  '1',
  '--frames-per-tracklet',
  '2',
  '--height',
  '16',
  '--width',
  '16',
  '--quiet',
];

/** Generates the data and trains the reference run. */
export async function createFixture(): Promise<Fixture> {
  const base = await workFolder('base');
  const data = join(base, 'data');
  const generated = await runCli(['datasets', 'generate', '--out', data, ...GENERATE]);
  if (generated.code !== 0) throw new Error(`fixture: datasets generate failed: ${generated.stderr}`);
  const reference = join(base, 'reference');
  const trained = await runCli(teacherArgs({ data }, reference));
  if (trained.code !== 0) throw new Error(`fixture: reference run failed: ${trained.stderr}`);
  const { totals } = await stepTotals(join(reference, 'log.jsonl'));
  return { base, data, reference, totals, weights: await readFile(join(reference, 'model', 'weights.safetensors')) };
}

/** Whether a finished run equals the reference bit for bit: every step's loss once, the same final weights. */
export async function compareWithReference(
  fixture: Fixture,
  out: string,
): Promise<{ outcome: Outcome; detail: string }> {
  const { totals, duplicates, damaged } = await stepTotals(join(out, 'log.jsonl'));
  if (damaged > 0) return { outcome: 'data lost or corrupted', detail: `${damaged} damaged log lines` };
  if (duplicates > 0)
    return { outcome: 'silent wrong result', detail: `${duplicates} duplicate step lines in log.jsonl` };
  const differing = [...fixture.totals].filter(([step, total]) => totals.get(step) !== total).map(([step]) => step);
  if (differing.length > 0 || totals.size !== fixture.totals.size) {
    return {
      outcome: 'silent wrong result',
      detail: `losses differ from the uninterrupted run at steps ${differing.slice(0, 5).join(', ')} (${totals.size} steps logged)`,
    };
  }
  const weights = await readFile(join(out, 'model', 'weights.safetensors'));
  if (!weights.equals(fixture.weights))
    return { outcome: 'silent wrong result', detail: 'final weights differ from the uninterrupted run' };
  return { outcome: 'handled (correct result)', detail: `${totals.size} step losses and the final weights bit-exact` };
}

/** Finishes an interrupted run: --resume, or --force when it was interrupted before its first checkpoint. */
export async function finish(fixture: Fixture, out: string): Promise<{ result: ProcessResult; how: string }> {
  const resumed = await runCli(teacherArgs(fixture, out, ['--resume']));
  if (resumed.code === 0) return { result: resumed, how: '--resume' };
  if (
    classifyFailure(resumed) === 'clear typed error' &&
    /no checkpoint to resume from|no readable settings.json/.test(resumed.stderr)
  ) {
    return {
      result: await runCli(teacherArgs(fixture, out, ['--force'])),
      how: '--resume refused (no checkpoint yet), then --force',
    };
  }
  return { result: resumed, how: '--resume' };
}

/** Polls the log until it holds `steps` step lines (or the process ends). */
export async function waitForSteps(logPath: string, steps: number, running: () => boolean): Promise<void> {
  while (running()) {
    const text = await readFile(logPath, 'utf8').catch(() => '');
    if ((text.match(/"type":"step"/g) ?? []).length >= steps) return;
    await new Promise((done) => setTimeout(done, 5));
  }
}

/** kill -9 at a random step (`mode: 'step'`) or as a checkpoint is being written (`'checkpoint'`), then resume. */
export async function killAndResume(
  fixture: Fixture,
  index: number,
  mode: 'step' | 'checkpoint',
  random: () => number,
): Promise<AttackResult> {
  const out = join(await workFolder(`kill-${index}`), 'run');
  await mkdir(out, { recursive: true });
  const target = 1 + Math.floor(random() * (fixture.totals.size - 1));
  const child = startCli(teacherArgs(fixture, out));
  let running = true;
  void child.result.then(() => (running = false));
  let where = `at step ${target}`;
  if (mode === 'step') {
    await waitForSteps(join(out, 'log.jsonl'), target, () => running);
  } else {
    // After `target` steps, the next temporary checkpoint folder (.epoch-NNNN.tmp-…) to appear.
    await waitForSteps(join(out, 'log.jsonl'), target, () => running);
    const seen = whenEntryAppears(out, (name) => /\.epoch-\d+\.tmp-/.test(name), 20_000);
    const hit = await seen.promise;
    seen.close();
    where = hit
      ? `while a checkpoint was written (after step ${target})`
      : `after step ${target} (no checkpoint write seen)`;
  }
  if (!running)
    return { attack: `kill -9 ${where}`, outcome: 'handled (correct result)', detail: 'the run ended before the kill' };
  child.kill('SIGKILL');
  await child.result;
  const leftovers = (await readdir(join(out, 'checkpoints')).catch(() => [])).filter((name) => name.includes('.tmp-'));
  const { result, how } = await finish(fixture, out);
  if (result.code !== 0)
    return {
      attack: `kill -9 ${where}`,
      outcome: classifyFailure(result),
      detail: `${how}: ${result.stderr.trim().split('\n')[0]}`,
    };
  const compared = await compareWithReference(fixture, out);
  return {
    attack: `kill -9 ${where}, then ${how}`,
    ...compared,
    detail: `${compared.detail}${leftovers.length > 0 ? `; cleaned ${leftovers.length} temporaries of the killed writer` : ''}`,
  };
}

/** A torn last log line (a crash mid-append) before --resume: repaired, no damaged or duplicate line after. */
export async function tornLogThenResume(fixture: Fixture): Promise<AttackResult> {
  const out = join(await workFolder('torn'), 'run');
  const child = startCli(teacherArgs(fixture, out));
  let running = true;
  void child.result.then(() => (running = false));
  await waitForSteps(join(out, 'log.jsonl'), 22, () => running);
  child.kill('SIGKILL');
  await child.result;
  await appendFile(join(out, 'log.jsonl'), '{"type":"step","time":"2026-');
  const { result } = await finish(fixture, out);
  if (result.code !== 0)
    return { attack: 'torn log line, then --resume', outcome: classifyFailure(result), detail: result.stderr.trim() };
  const compared = await compareWithReference(fixture, out);
  const report = await runCli(['report', '--run', out]);
  return {
    attack: 'torn log line, then --resume; vkd report',
    ...compared,
    detail: `${compared.detail}; vkd report exit ${report.code}`,
  };
}

/** ENOSPC at several points of a run on a small tmpfs, then more space and --resume (root only). */
export async function fullDisk(fixture: Fixture, fractions: readonly number[]): Promise<AttackResult[] | string> {
  if (process.getuid?.() !== 0) return 'skipped: mounting a small tmpfs needs root';
  const peak = await directoryBytes(fixture.reference);
  const results: AttackResult[] = [];
  for (const fraction of fractions) {
    const mount = await workFolder('enospc');
    const size = Math.max(64 * 1024, Math.round(peak * fraction));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', mount]);
    } catch (error) {
      return `skipped: mount failed (${(error as Error).message.split('\n')[0]})`;
    }
    const attack = `disk full at ${Math.round(fraction * 100)} % of the run's size (${Math.round(size / 1024)} KiB)`;
    try {
      const out = join(mount, 'run');
      const first = await runCli(teacherArgs(fixture, out));
      if (first.code === 0) {
        results.push({ attack, ...(await compareWithReference(fixture, out)) });
        continue;
      }
      const failure = classifyFailure(first);
      const log = await stepTotals(join(out, 'log.jsonl')).catch(() => ({ damaged: 0 }));
      if (log.damaged > 0) {
        results.push({
          attack,
          outcome: 'data lost or corrupted',
          detail: `log.jsonl has ${log.damaged} damaged lines after ENOSPC`,
        });
        continue;
      }
      execFileSync('mount', ['-o', 'remount,size=256m', mount]);
      const { result, how } = await finish(fixture, out);
      if (result.code !== 0) {
        results.push({
          attack,
          outcome: classifyFailure(result),
          detail: `after freeing space, ${how}: ${result.stderr.trim().split('\n')[0]}`,
        });
        continue;
      }
      const compared = await compareWithReference(fixture, out);
      const outcome: Outcome = compared.outcome === 'handled (correct result)' ? failure : compared.outcome;
      results.push({
        attack,
        outcome,
        detail: `${first.stderr.trim().split('\n')[0]} → after freeing space, ${how}: ${compared.detail}`,
      });
    } finally {
      execFileSync('umount', [mount]);
      await rm(mount, { recursive: true, force: true });
    }
  }
  return results;
}

async function directoryBytes(directory: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(directory, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

/** Two runs started at once on the same --out: one runs, the other is refused naming it; nothing is mixed. */
export async function concurrentWriters(fixture: Fixture, index: number): Promise<AttackResult> {
  const out = join(await workFolder(`concurrent-${index}`), 'run');
  const [first, second] = await Promise.all([
    runCli(teacherArgs(fixture, out)),
    runCli(teacherArgs(fixture, out, ['--seed', '5'])),
  ]);
  const attack = 'two train-teacher runs on one --out at once';
  const winners = [first, second].filter((result) => result.code === 0);
  const loser = [first, second].find((result) => result.code !== 0);
  if (winners.length !== 1 || !loser)
    return { attack, outcome: 'data lost or corrupted', detail: `${winners.length} runs exited 0` };
  if (!/is in use by|is not empty/.test(loser.stderr))
    return { attack, outcome: classifyFailure(loser), detail: loser.stderr.trim() };
  const settings = JSON.parse(await readFile(join(out, 'settings.json'), 'utf8')) as { data: { seed: number } };
  const metrics = JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8')) as {
    settings: { data: { seed: number } };
  };
  const winnerSeed = winners[0] === first ? 1897 : 5;
  const starts = ((await readFile(join(out, 'log.jsonl'), 'utf8')).match(/"train-start"/g) ?? []).length;
  if (settings.data.seed !== winnerSeed || metrics.settings.data.seed !== winnerSeed || starts !== 1) {
    return {
      attack,
      outcome: 'data lost or corrupted',
      detail: `settings seed ${settings.data.seed}, metrics seed ${metrics.settings.data.seed}, ${starts} train-start lines`,
    };
  }
  if (winnerSeed === 1897) {
    const compared = await compareWithReference(fixture, out);
    if (compared.outcome !== 'handled (correct result)') return { attack, ...compared };
  }
  return {
    attack,
    outcome: 'clear typed error',
    detail: `the second was refused: ${loser.stderr.trim().split('\n')[0].slice(0, 160)}`,
  };
}

/** What a refused command must leave: every listed file with the same bytes. */
export async function snapshot(directory: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const entry of await readdir(directory, { recursive: true, withFileTypes: true })) {
    if (entry.isFile())
      files.set(
        join(entry.parentPath, entry.name),
        (await readFile(join(entry.parentPath, entry.name))).toString('base64'),
      );
  }
  return files;
}

export function unchanged(before: Map<string, string>, after: Map<string, string>): boolean {
  return before.size === after.size && [...before].every(([file, content]) => after.get(file) === content);
}

/** A command that must be refused with a typed error and change nothing under `watched`. */
export async function refusedAndUnchanged(
  attack: string,
  args: readonly string[],
  watched: string,
  expected: RegExp,
  options: { metrics?: boolean } = {},
): Promise<AttackResult> {
  const before = await snapshot(watched);
  const result = await runCli(args, options);
  const after = await snapshot(watched);
  if (!unchanged(before, after))
    return {
      attack,
      outcome: 'data lost or corrupted',
      detail: `files under ${watched} changed (exit ${result.code})`,
    };
  if (result.code === 0) return { attack, outcome: 'silent wrong result', detail: 'accepted' };
  const outcome = classifyFailure(result);
  const message = result.stderr.trim().split('\n')[0] ?? '';
  return {
    attack,
    outcome: outcome === 'clear typed error' && !expected.test(message) ? 'unclear error or stack trace' : outcome,
    detail: message.slice(0, 200),
  };
}

/** User files next to and inside generated data and run directories. */
export async function userFiles(fixture: Fixture): Promise<AttackResult[]> {
  const results: AttackResult[] = [];
  const base = await workFolder('user-files');
  // A synthetic set with a user file inside, asked for with other options.
  const data = join(base, 'data');
  await cp(fixture.data, data, { recursive: true });
  const mine = join(data, 'bbox_train', '0001', 'my-own-frame.jpg');
  await writeFile(mine, 'user data');
  const generate = ['datasets', 'generate', '--out', data, ...GENERATE];
  results.push(
    await refusedAndUnchanged(
      'datasets generate: manifest mismatch (other seed), user file inside',
      [...generate, '--seed', '3'],
      data,
      /other options: seed 0 \(wanted 3\)/,
    ),
  );
  results.push(
    await refusedAndUnchanged(
      'datasets generate --regenerate: user file inside bbox_train/',
      [...generate, '--seed', '3', '--regenerate'],
      data,
      /my-own-frame.jpg: was not written by the synthetic generator/,
    ),
  );
  const manifest = join(data, 'synthetic.json');
  const text = await readFile(manifest, 'utf8');
  await writeFile(manifest, text.slice(0, text.length / 2));
  results.push(
    await refusedAndUnchanged(
      'datasets generate --regenerate: truncated manifest',
      [...generate, '--regenerate'],
      data,
      /synthetic.json: cannot be read/,
    ),
  );
  await rm(manifest);
  await mkdir(manifest);
  results.push(
    await refusedAndUnchanged(
      'datasets generate --regenerate: manifest is a directory',
      [...generate, '--regenerate'],
      data,
      /synthetic.json: cannot be read/,
    ),
  );
  // vkd demo --out D with the user's files in D/report.
  const demo = join(base, 'demo');
  await mkdir(join(demo, 'report'), { recursive: true });
  await writeFile(join(demo, 'report', 'slides.html'), 'mine');
  results.push(
    await refusedAndUnchanged(
      'vkd demo --out D, user file in D/report',
      ['demo', '--quick', '--device', 'cpu', '--out', demo],
      demo,
      /report\/slides.html is not listed there; nothing was removed/,
    ),
  );
  // A fresh run, or --force, in a directory holding a finished run and the user's notes.
  const finished = join(base, 'finished');
  await cp(fixture.reference, finished, { recursive: true });
  await writeFile(join(finished, 'checkpoints', 'my-notes.txt'), 'mine');
  results.push(
    await refusedAndUnchanged(
      'fresh run in a directory with a finished run',
      teacherArgs(fixture, finished, ['--seed', '7']),
      finished,
      /is not empty/,
    ),
  );
  results.push(
    await refusedAndUnchanged(
      '--force over a finished run with a user file in checkpoints/',
      teacherArgs(fixture, finished, ['--force']),
      finished,
      /checkpoints\/my-notes.txt is not listed there; nothing was removed/,
    ),
  );
  return results;
}

/** --resume with settings that change the result, and damaged checkpoint state. */
export async function resumeMismatches(fixture: Fixture): Promise<AttackResult[]> {
  const results: AttackResult[] = [];
  const run = join(await workFolder('resume'), 'run');
  await cp(fixture.reference, run, { recursive: true });
  const cases: Array<[string, string[], RegExp]> = [
    ['--resume with another --seed', ['--seed', '2'], /--seed 1897 → 2.*--allow-changed seed/],
    ['--resume with another input size', ['--height', '32'], /--height 16 → 32/],
    ['--resume with another P×K', ['--identities-per-batch', '4'], /--identities-per-batch 2 → 4/],
    ['--resume with another frames per tracklet', ['--frames-per-tracklet', '2'], /--frames-per-tracklet 1 → 2/],
    ['--resume with fewer epochs than the checkpoint', ['--epochs', '3'], /already trained 12 epochs/],
  ];
  for (const [attack, extra, expected] of cases) {
    const args = teacherArgs(fixture, run, ['--resume']);
    for (let index = 0; index < extra.length; index += 2) {
      const at = args.indexOf(extra[index] as string);
      if (at >= 0) args.splice(at, 2, extra[index] as string, extra[index + 1] as string);
      else args.push(extra[index] as string, extra[index + 1] as string);
    }
    results.push(await refusedAndUnchanged(attack, args, run, expected));
  }
  const state = join(run, 'checkpoints', 'epoch-0012', 'state.json');
  const parsed = JSON.parse(await readFile(state, 'utf8'));
  await writeFile(state, JSON.stringify({ ...parsed, nextEpoch: 'four' }));
  results.push(
    await refusedAndUnchanged(
      'state.json with nextEpoch "four", then --resume',
      teacherArgs(fixture, run, ['--resume']),
      run,
      /field nextEpoch is "four"/,
    ),
  );
  return results;
}

/** Exploding runs: NaN weights (--kd-weight 1e37) and divergence without NaN (--learning-rate 10). */
export async function explodingRuns(fixture: Fixture): Promise<AttackResult[]> {
  const results: AttackResult[] = [];
  const base = await workFolder('explode');
  const runs: Array<[string, string[], string]> = [
    [
      'distill --kd-weight 1e37 --save-every 1',
      [
        'distill',
        '--dataset',
        'synthetic',
        '--root',
        fixture.data,
        '--teacher',
        fixture.reference,
        '--out',
        join(base, 'distill'),
        '--device',
        'cpu',
        '--quiet',
        '--height',
        '16',
        '--width',
        '16',
        '--epochs',
        '3',
        '--identities-per-batch',
        '2',
        '--instances-per-identity',
        '1',
        '--frames-per-tracklet',
        '1',
        '--student-frames',
        '1',
        '--eval-every',
        '0',
        '--no-augment',
        '--save-every',
        '1',
        '--kd-weight',
        '1e37',
      ],
      join(base, 'distill'),
    ],
    [
      'train-teacher --learning-rate 10',
      teacherArgs(fixture, join(base, 'lr10'), ['--learning-rate', '10']),
      join(base, 'lr10'),
    ],
  ];
  for (const [attack, args, out] of runs) {
    const result = await runCli(args);
    const checkpoints = (await readdir(join(out, 'checkpoints')).catch(() => [])).filter((name) =>
      /^epoch-\d+$/.test(name),
    );
    let bad = 0;
    for (const name of checkpoints) {
      // Version 2: model/weights.safetensors + optimizer.safetensors (version 1: one tensors.safetensors).
      const files = ['model/weights.safetensors', 'optimizer.safetensors', 'tensors.safetensors']
        .map((file) => join(out, 'checkpoints', name, file))
        .filter((file) => existsSync(file));
      if (files.length === 0 || !(await Promise.all(files.map(finiteSafetensors))).every(Boolean)) bad += 1;
    }
    if (bad > 0) {
      results.push({
        attack,
        outcome: 'data lost or corrupted',
        detail: `${bad} of ${checkpoints.length} checkpoints hold NaN/Inf or cannot be read`,
      });
    } else if (result.code === 0) {
      const weights = await readFile(join(out, 'model', 'weights.safetensors'));
      results.push({
        attack,
        outcome: 'silent wrong result',
        detail: `exit 0 (model ${weights.length} bytes): divergence not noticed`,
      });
    } else {
      const outcome = classifyFailure(result);
      const message = result.stderr.trim().split('\n').pop() ?? '';
      const named = /NonFiniteValueError|TrainingDivergedError/.test(result.stderr);
      const modelWritten = existsSync(join(out, 'model', 'weights.safetensors'));
      results.push({
        attack,
        outcome: modelWritten ? 'silent wrong result' : named ? outcome : 'unclear error or stack trace',
        detail: `${message.slice(0, 220)}; ${checkpoints.length} checkpoints kept, all finite; model/ ${modelWritten ? 'written' : 'not written'}`,
      });
    }
  }
  return results;
}

/** Whether every F32 value of a safetensors file is finite (read independently of the library under test). */
export async function finiteSafetensors(file: string): Promise<boolean> {
  try {
    const bytes = await readFile(file);
    const headerLength = Number(bytes.readBigUInt64LE(0));
    const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8')) as Record<
      string,
      { dtype?: string; data_offsets?: [number, number] }
    >;
    for (const [name, entry] of Object.entries(header)) {
      if (name === '__metadata__' || entry.dtype !== 'F32' || !entry.data_offsets) continue;
      const [start, end] = entry.data_offsets;
      const data = bytes.subarray(8 + headerLength + start, 8 + headerLength + end);
      for (let offset = 0; offset < data.length; offset += 4)
        if (!Number.isFinite(data.readFloatLE(offset))) return false;
    }
    return true;
  } catch {
    return false;
  }
}

/** Bad flags and files that once ended in a stack trace or an out-of-memory crash. */
export async function badInputs(fixture: Fixture, matMutantCount = 2000): Promise<AttackResult[]> {
  const base = await workFolder('inputs');
  const bomb = join(base, 'bomb.yaml');
  const lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
  for (const [index, name] of ['b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'].entries()) {
    const previous = index === 0 ? 'a' : ['b', 'c', 'd', 'e', 'f', 'g', 'h'][index - 1];
    lines.push(`${name}: &${name} [${Array(9).fill(`*${previous}`).join(',')}]`);
  }
  await writeFile(bomb, `${lines.join('\n')}\n`);
  const generate = ['datasets', 'generate', '--out', join(base, 'big')];
  const cases: Array<[string, string[], RegExp, { metrics?: boolean }?]> = [
    ['YAML alias bomb as --config', ['train-teacher', '--config', bomb], /aliases .* are not accepted/],
    [
      '--seed 4294967297 (aliases seed 1 modulo 2^32)',
      ['datasets', ...generate.slice(1), '--seed', '4294967297'],
      /Invalid --seed: 4294967297. Must be ≤ 4294967295/,
    ],
    ['--seed 1e300', ['datasets', ...generate.slice(1), '--seed', '1e300'], /Invalid --seed/],
    [
      'vkd-metrics --max-rank 1e15',
      [
        '--distances',
        join(base, 'none.npy'),
        '--query-labels',
        'q.csv',
        '--gallery-labels',
        'g.csv',
        '--max-rank',
        '1e15',
      ],
      /--max-rank.*at most 100000/,
      { metrics: true },
    ],
    [
      'vkd-metrics --max-rank 1e9',
      [
        '--distances',
        join(base, 'none.npy'),
        '--query-labels',
        'q.csv',
        '--gallery-labels',
        'g.csv',
        '--max-rank',
        '1000000000',
      ],
      /--max-rank.*at most 100000/,
      { metrics: true },
    ],
    [
      'oversized datasets generate (9999 × 9 × 99 × 999 frames)',
      [
        ...generate,
        '--identities',
        '9999',
        '--cameras',
        '9',
        '--tracklets-per-identity',
        '99',
        '--frames-per-tracklet',
        '999',
      ],
      /the generator makes at most 2,000,000/,
    ],
    [
      'datasets generate --identities 10000 (beyond the library)',
      [...generate, '--identities', '10000'],
      /Invalid --identities: 10000. Must be ≤ 9999/,
    ],
  ];
  const results: AttackResult[] = [];
  for (const [attack, args, expected, options] of cases)
    results.push(await refusedAndUnchanged(attack, args, base, expected, options ?? {}));
  results.push(matMutants(matMutantCount));
  void fixture;
  return results;
}

/** Mutated and truncated MAT files through the reader: every failure must be a DatasetFormatError. */
export function matMutants(count: number): AttackResult {
  const file = writeMatFile([
    {
      name: 'track_test_info',
      rows: [
        [1, 2, 3, 4],
        [5, 6, 7, 8],
      ],
      storage: 'int32',
    },
  ]);
  const inner = inflateSync(file.subarray(136));
  const plain = new Uint8Array(128 + inner.length);
  plain.set(file.subarray(0, 128));
  plain.set(inner, 128);
  const random = seededUniform(13);
  const failures: Record<string, number> = {};
  for (let index = 0; index < count; index++) {
    const source = index % 2 === 0 ? plain : file;
    let mutated = new Uint8Array(source);
    if (index % 3 === 0) mutated = mutated.slice(0, 128 + Math.floor(random() * (source.length - 128)));
    else
      for (let flips = 0; flips < 1 + Math.floor(random() * 3); flips++)
        mutated[128 + Math.floor(random() * (source.length - 128))] = Math.floor(random() * 256);
    try {
      readMatFile(mutated, 'mutant.mat');
    } catch (error) {
      const name = (error as Error).name;
      failures[name] = (failures[name] ?? 0) + 1;
    }
  }
  const other = Object.entries(failures).filter(([name]) => name !== 'DatasetFormatError');
  return {
    attack: `${count} mutated or truncated .mat files`,
    outcome: other.length > 0 ? 'unclear error or stack trace' : 'clear typed error',
    detail: `failures: ${JSON.stringify(failures)}; the rest read (mutated values)`,
  };
}

/** Removes every folder the attacks made. */
export async function removeWork(): Promise<void> {
  if (session) await rm(session, { recursive: true, force: true });
  session = undefined;
}
