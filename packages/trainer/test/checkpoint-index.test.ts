import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CheckpointError } from '@vkd/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHECKPOINT_INDEX, readCheckpointIndex } from '../src/checkpoint';

let root = '';
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'vkd-checkpoint-index-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** The CheckpointError `promise` rejects with (fails the test if it resolves or rejects with anything else). */
async function checkpointError(promise: Promise<unknown>): Promise<CheckpointError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(CheckpointError);
  return error as CheckpointError;
}

describe('readCheckpointIndex', () => {
  it('means "no checkpoints yet" only when the file (or its directory) does not exist', async () => {
    expect(await readCheckpointIndex(path.join(root, 'never-created'))).toBeUndefined();
    const empty = path.join(root, 'empty');
    await mkdir(empty);
    expect(await readCheckpointIndex(empty)).toBeUndefined();
    const saved = path.join(root, 'saved');
    await mkdir(saved);
    const index = {
      latest: 'epoch-0001',
      checkpoints: [{ name: 'epoch-0001', nextEpoch: 1, globalStep: 3, metrics: {}, savedAt: 'x' }],
    };
    await writeFile(path.join(saved, CHECKPOINT_INDEX), JSON.stringify(index));
    expect(await readCheckpointIndex(saved)).toEqual(index);
  });

  it('reports a checkpoints.json that exists but cannot be read, naming the file', async () => {
    // A directory where the file should be (EISDIR).
    const directory = path.join(root, 'index-is-a-directory');
    await mkdir(path.join(directory, CHECKPOINT_INDEX), { recursive: true });
    const isDirectory = await checkpointError(readCheckpointIndex(directory));
    expect(isDirectory.path).toBe(path.join(directory, CHECKPOINT_INDEX));
    expect(isDirectory.message).toMatch(/checkpoints\.json: cannot be read \(EISDIR/);
    // The "directory" is a file (ENOTDIR).
    const file = path.join(root, 'a-file');
    await writeFile(file, 'not a directory');
    const notDirectory = await checkpointError(readCheckpointIndex(file));
    expect(notDirectory.path).toBe(path.join(file, CHECKPOINT_INDEX));
    expect(notDirectory.message).toMatch(/ENOTDIR/);
  });

  // root reads any file whatever its mode, so the permission case can only be checked as another user.
  it.skipIf(process.getuid?.() === 0)('reports a checkpoints.json without read permission (not as root)', async () => {
    const directory = path.join(root, 'unreadable');
    await mkdir(directory);
    const file = path.join(directory, CHECKPOINT_INDEX);
    await writeFile(file, '{"checkpoints": []}');
    await chmod(file, 0o000);
    const error = await checkpointError(readCheckpointIndex(directory));
    expect(error.message).toMatch(/EACCES/);
    await chmod(file, 0o600);
  });

  it('reports corrupt contents, naming the file', async () => {
    const directory = path.join(root, 'corrupt');
    await mkdir(directory);
    await writeFile(path.join(directory, CHECKPOINT_INDEX), '{"latest": ');
    const badJson = await checkpointError(readCheckpointIndex(directory));
    expect(badJson.path).toBe(path.join(directory, CHECKPOINT_INDEX));
    await writeFile(path.join(directory, CHECKPOINT_INDEX), '{"latest": "x"}');
    expect((await checkpointError(readCheckpointIndex(directory))).message).toMatch(/no checkpoints array/);
  });
});
