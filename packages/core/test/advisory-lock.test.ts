import { spawn } from 'node:child_process';
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { acquireAdvisoryLock, isHeldLock, type AdvisoryLock, type LockHolder } from '../src/advisory-lock';

/** A lock left by a process that is gone (pids never reach 999999999: Linux's pid_max is at most 2²²). */
const STALE: LockHolder = {
  pid: 999_999_999,
  hostname: hostname(),
  startedAt: '2026-01-01T00:00:00.000Z',
  command: 'vkd killed',
};

const source = resolve(fileURLToPath(new URL('../src/advisory-lock.ts', import.meta.url)));

/** `acquireAdvisoryLock` in its own process, started at `at` (ms since the epoch), holding the lock for 1.5 s. */
function takerProcess(file: string, name: string, at: number): Promise<{ held: boolean; holder?: string }> {
  const script = `
    const { acquireAdvisoryLock, isHeldLock } = await import(${JSON.stringify(source)});
    await new Promise((done) => setTimeout(done, ${at} - Date.now()));
    const outcome = await acquireAdvisoryLock(${JSON.stringify(file)}, ${JSON.stringify(name)});
    console.log(JSON.stringify({ held: isHeldLock(outcome), holder: outcome.holder?.command }));
    await new Promise((done) => setTimeout(done, 1500));`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  return new Promise((done, fail) =>
    child.on('close', (code) => (code === 0 ? done(JSON.parse(stdout)) : fail(new Error(`taker exit ${code}`)))),
  );
}

describe('acquireAdvisoryLock: stale-lock takeover', () => {
  it('of several takers that find one stale lock at once, exactly one gets it; the others are told who', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'vkd-lock-'));
    const file = join(directory, 'vkd-run.lock');
    for (let round = 0; round < 40; round++) {
      await writeFile(file, JSON.stringify(STALE));
      const told: string[] = [];
      const outcomes = await Promise.all(
        Array.from({ length: 6 }, (_, taker) =>
          acquireAdvisoryLock(file, `taker ${taker}`, (holder) => told.push(holder.command)),
        ),
      );
      const held = outcomes.filter(isHeldLock);
      expect(held.length, `round ${round}`).toBe(1);
      const winner = (held[0] as AdvisoryLock).holder.command;
      for (const refused of outcomes.filter((outcome) => !isHeldLock(outcome)))
        expect(refused.holder?.command, `round ${round}`).toBe(winner);
      expect(told).toEqual(['vkd killed']);
      await (held[0] as AdvisoryLock).release();
    }
    // No guard or temporary file is left behind.
    expect(await readdir(directory)).toEqual([]);
  });

  it('two processes taking over one stale lock at the same moment: one holds it, the other is refused', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'vkd-lock-'));
    const file = join(directory, 'vkd-run.lock');
    for (let round = 0; round < 2; round++) {
      await writeFile(file, JSON.stringify(STALE));
      const at = Date.now() + 2500;
      const results = await Promise.all([takerProcess(file, 'first', at), takerProcess(file, 'second', at)]);
      expect(results.filter((result) => result.held).length, JSON.stringify(results)).toBe(1);
      const winner = results[0]?.held ? 'first' : 'second';
      expect(results.find((result) => !result.held)?.holder).toBe(winner);
    }
  }, 60_000);
});
