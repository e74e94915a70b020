import { lstat, mkdir, mkdtemp, chmod, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureRuntimeDirectory } from '../src/cli/runtime-directory';

const uid = process.getuid?.() ?? 0;
const base = () => mkdtemp(join(tmpdir(), 'vkd-runtime-test-'));

// Without XDG_RUNTIME_DIR, probing WebGPU (Dawn → Vulkan loader → libwayland) prints
// "error: XDG_RUNTIME_DIR is invalid or not set in the environment." The CLI gives the process a private one.
describe.skipIf(process.platform === 'win32')('ensureRuntimeDirectory', () => {
  it('creates <tmpdir>/vkd-runtime-<uid> with mode 0700 and sets XDG_RUNTIME_DIR when it is unset, empty or relative', async () => {
    for (const value of [undefined, '', 'run/user']) {
      const baseDirectory = await base();
      const env: Record<string, string | undefined> = value === undefined ? {} : { XDG_RUNTIME_DIR: value };
      const directory = ensureRuntimeDirectory(env, { baseDirectory, uid, platform: 'linux' });
      expect(directory).toBe(join(baseDirectory, `vkd-runtime-${uid}`));
      expect(env.XDG_RUNTIME_DIR).toBe(directory);
      const info = await lstat(directory as string);
      expect(info.isDirectory()).toBe(true);
      expect(info.mode & 0o777).toBe(0o700);
    }
  });

  it('keeps an absolute XDG_RUNTIME_DIR, and changes nothing on Windows or macOS', async () => {
    const baseDirectory = await base();
    const env = { XDG_RUNTIME_DIR: '/run/user/1000' };
    expect(ensureRuntimeDirectory(env, { baseDirectory, uid, platform: 'linux' })).toBeUndefined();
    expect(env.XDG_RUNTIME_DIR).toBe('/run/user/1000');
    for (const platform of ['win32', 'darwin'] as const) {
      const empty: Record<string, string | undefined> = {};
      expect(ensureRuntimeDirectory(empty, { baseDirectory, uid, platform })).toBeUndefined();
      expect(empty).toEqual({});
    }
  });

  it('reuses its directory (tightening the mode) but never a link or a directory owned by someone else', async () => {
    const baseDirectory = await base();
    const directory = join(baseDirectory, `vkd-runtime-${uid}`);
    await mkdir(directory);
    await chmod(directory, 0o755);
    expect(ensureRuntimeDirectory({}, { baseDirectory, uid, platform: 'linux' })).toBe(directory);
    expect((await lstat(directory)).mode & 0o777).toBe(0o700);

    const linked = await base();
    await symlink(directory, join(linked, `vkd-runtime-${uid}`));
    const env: Record<string, string | undefined> = {};
    expect(ensureRuntimeDirectory(env, { baseDirectory: linked, uid, platform: 'linux' })).toBeUndefined();
    expect(env.XDG_RUNTIME_DIR).toBeUndefined();

    // Same name, other owner (as if another user had created it first in a shared /tmp).
    const other = uid + 1;
    await mkdir(join(baseDirectory, `vkd-runtime-${other}`));
    expect(ensureRuntimeDirectory(env, { baseDirectory, uid: other, platform: 'linux' })).toBeUndefined();
    expect(env.XDG_RUNTIME_DIR).toBeUndefined();
  });
});
