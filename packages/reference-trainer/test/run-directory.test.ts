import { mkdir, mkdtemp, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { COMMANDS } from '../src/cli/commands';
import { runCli } from '../src/cli/run-cli';
import { openRunDirectory, RUN_MANIFEST } from '../src/run/run-directory';
import { RUN_LOCK } from '../src/run/run-lock';

// The demo picks its backend first; the run directory is checked before any data or training.
const activateDevice = vi.hoisted(() => vi.fn(async () => ({ backend: 'cpu' })));
vi.mock('../src/run/activate-device', () => ({ activateDevice }));

const WRITES = ['log.jsonl', 'checkpoints', 'model', 'settings.json', 'metrics.json'];

async function folder(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'vkd-run-dir-'));
}

/** A finished run: files listed in its manifest, as a stage leaves them. */
async function finishedRun(directory: string): Promise<void> {
  const run = await openRunDirectory(directory, { mode: 'fresh', command: 'vkd train-teacher', writes: WRITES });
  await mkdir(join(directory, 'checkpoints', 'epoch-0001'), { recursive: true });
  await writeFile(join(directory, 'checkpoints', 'epoch-0001', 'state.json'), '{}');
  await writeFile(join(directory, 'checkpoints', 'checkpoints.json'), '{"latest":"epoch-0001","checkpoints":[]}');
  await writeFile(join(directory, 'log.jsonl'), '{}\n');
  await run.record('checkpoints', 'log.jsonl');
  await run.close();
}

describe('run directories: a run owns only the files it wrote', () => {
  it('refuses a fresh run in a non-empty directory, naming what is there and the flags', async () => {
    const directory = await folder();
    await writeFile(join(directory, 'notes.txt'), 'mine');
    await expect(
      openRunDirectory(directory, { mode: 'fresh', command: 'vkd train-teacher', writes: WRITES }),
    ).rejects.toThrow(/is not empty \(notes.txt\)\. Pass --resume .* --force .* or another --out/);
    await finishedRun(await folder()); // an empty directory is fine
  });

  it('refuses a fresh run over a finished one (its checkpoints.json would be resumed later)', async () => {
    const directory = await folder();
    await finishedRun(directory);
    await expect(
      openRunDirectory(directory, { mode: 'fresh', command: 'vkd train-teacher', writes: WRITES }),
    ).rejects.toThrow(/checkpoints, log.jsonl/);
  });

  it('--force removes only the listed files; a user file where the run writes is refused before anything is removed', async () => {
    const directory = await folder();
    await finishedRun(directory);
    await writeFile(join(directory, 'notes.txt'), 'mine');
    await writeFile(join(directory, 'checkpoints', 'my-analysis.csv'), 'mine');
    await expect(
      openRunDirectory(directory, { mode: 'replace', command: 'vkd train-teacher', writes: WRITES }),
    ).rejects.toThrow(/checkpoints\/my-analysis.csv is not listed there; nothing was removed/);
    expect(await readFile(join(directory, 'checkpoints', 'epoch-0001', 'state.json'), 'utf8')).toBe('{}');
    await rename(join(directory, 'checkpoints', 'my-analysis.csv'), join(directory, 'analysis.csv'));
    const run = await openRunDirectory(directory, { mode: 'replace', command: 'vkd train-teacher', writes: WRITES });
    await run.close();
    expect((await readdir(directory)).sort()).toEqual(['analysis.csv', 'notes.txt', RUN_MANIFEST]);
    expect(JSON.parse(await readFile(join(directory, RUN_MANIFEST), 'utf8')).files).toEqual([]);
  });

  it('a damaged manifest is refused by --force (it cannot tell what vkd wrote)', async () => {
    const directory = await folder();
    await finishedRun(directory);
    await writeFile(join(directory, RUN_MANIFEST), '{"format":"vkd-run-man');
    await expect(
      openRunDirectory(directory, { mode: 'replace', command: 'vkd distill', writes: WRITES }),
    ).rejects.toThrow(/vkd-run.json is damaged.*nothing was removed/);
    expect(await readFile(join(directory, 'log.jsonl'), 'utf8')).toBe('{}\n');
  });
});

describe('the run lock', () => {
  it('stops a second writer with a message naming the holder, and is released at close', async () => {
    const directory = await folder();
    const first = await openRunDirectory(directory, {
      mode: 'fresh',
      command: 'vkd train-teacher --seed 1',
      writes: WRITES,
    });
    await expect(
      openRunDirectory(directory, { mode: 'resume', command: 'vkd train-teacher --seed 2', writes: WRITES }),
    ).rejects.toThrow(
      new RegExp(`is in use by \`vkd train-teacher --seed 1\` \\(pid ${process.pid} on ${hostname()}, started .*\\)`),
    );
    await first.close();
    expect(await readdir(directory)).not.toContain(RUN_LOCK);
    const second = await openRunDirectory(directory, {
      mode: 'resume',
      command: 'vkd train-teacher --seed 2',
      writes: WRITES,
    });
    await second.close();
  });

  it('takes over a stale lock (its process is gone, or the pid was reused), but never one from another host', async () => {
    const directory = await folder();
    const dead = {
      pid: 999999999,
      hostname: hostname(),
      startedAt: '2026-01-01T00:00:00.000Z',
      command: 'vkd distill',
    };
    await writeFile(join(directory, RUN_LOCK), JSON.stringify(dead));
    const warnings: string[] = [];
    const run = await openRunDirectory(directory, {
      mode: 'fresh',
      command: 'vkd distill',
      writes: WRITES,
      onWarning: (text) => warnings.push(text),
    });
    expect(warnings.join('\n')).toMatch(/took over the lock of `vkd distill` \(pid 999999999/);
    await run.close();
    // pid alive (this process) but started at another time: reused pid.
    await writeFile(join(directory, RUN_LOCK), JSON.stringify({ ...dead, pid: process.pid, processStart: '1' }));
    const reused = await openRunDirectory(directory, { mode: 'resume', command: 'vkd distill', writes: WRITES });
    await reused.close();
    await writeFile(join(directory, RUN_LOCK), JSON.stringify({ ...dead, hostname: 'another-machine' }));
    await expect(
      openRunDirectory(directory, { mode: 'resume', command: 'vkd distill', writes: WRITES }),
    ).rejects.toThrow(/in use by .*on another-machine.*delete/);
  });
});

describe("vkd demo --out D never deletes the user's files", () => {
  it('refuses when D/report holds a file no vkd run wrote, and changes nothing', async () => {
    const directory = await folder();
    await mkdir(join(directory, 'report'), { recursive: true });
    await writeFile(join(directory, 'report', 'my-slides.html'), 'mine');
    await writeFile(join(directory, 'notes.txt'), 'mine');
    let stderr = '';
    const io = {
      stdout: { write: () => true },
      stderr: { write: (text: string) => (stderr += text) },
      env: { CI: 'true' },
      cwd: directory,
    };
    const code = await runCli(['demo', '--quick', '--out', directory], io, COMMANDS);
    expect(code).toBe(1);
    expect(stderr).toMatch(/RunDirectoryError: .*report\/my-slides.html is not listed there; nothing was removed/);
    expect(await readFile(join(directory, 'report', 'my-slides.html'), 'utf8')).toBe('mine');
    expect((await readdir(directory)).sort()).toEqual(['notes.txt', 'report']);
  });
});

describe('vkd evaluate --out FILE', () => {
  it('is refused before the evaluation (and before the backend is chosen)', async () => {
    const directory = await folder();
    await writeFile(join(directory, 'results.txt'), 'mine');
    let stderr = '';
    const io = {
      stdout: { write: () => true },
      stderr: { write: (text: string) => (stderr += text) },
      env: { CI: 'true' },
      cwd: directory,
    };
    activateDevice.mockClear();
    const code = await runCli(
      [
        'evaluate',
        '--dataset',
        'mars',
        '--root',
        join(directory, 'none'),
        '--model',
        directory,
        '--out',
        join(directory, 'results.txt'),
      ],
      io,
      COMMANDS,
    );
    expect(code).toBe(2);
    expect(stderr).toMatch(/Invalid --out: .*results.txt.*It is a file; --out takes a directory/);
    expect(activateDevice).not.toHaveBeenCalled();
    expect(await readFile(join(directory, 'results.txt'), 'utf8')).toBe('mine');
  });
});
