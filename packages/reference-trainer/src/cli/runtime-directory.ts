import { chmodSync, lstatSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';

/** Where {@link ensureRuntimeDirectory} looks and what it may change (injected in tests). */
export interface RuntimeDirectoryOptions {
  /** Parent of the directory (default `os.tmpdir()`). */
  readonly baseDirectory?: string;
  /** Owner of the directory (default `process.getuid()`). */
  readonly uid?: number;
  /** Default `process.platform`. */
  readonly platform?: NodeJS.Platform;
}

/**
 * Gives the native libraries that `--device auto|webgpu` loads a private `XDG_RUNTIME_DIR` when the environment has
 * none (containers, CI, `sudo`, ssh without a login session). Dawn's Vulkan loader pulls in the Wayland client
 * library, which otherwise prints `error: XDG_RUNTIME_DIR is invalid or not set in the environment.` on stderr while
 * the backend is probed. Call it once at process start, before the `webgpu` package is imported; only the CLI
 * process does this (a library must not change its host's environment).
 *
 * The directory is `<tmpdir>/vkd-runtime-<uid>`, created with mode 0700 as the XDG spec asks. An existing one is used
 * only when it is a real directory (not a link) owned by this user; anything unexpected leaves the environment as it
 * is: this only silences a warning, so it never fails the command.
 * @param env the environment to complete (`process.env` in the CLI).
 * @returns the directory now in `env.XDG_RUNTIME_DIR`, or undefined when nothing was changed.
 */
export function ensureRuntimeDirectory(
  env: Record<string, string | undefined>,
  options: RuntimeDirectoryOptions = {},
): string | undefined {
  const platform = options.platform ?? process.platform;
  if (platform === 'win32' || platform === 'darwin') return undefined; // no Wayland there
  const current = env.XDG_RUNTIME_DIR;
  if (current !== undefined && isAbsolute(current)) return undefined; // libwayland accepts any absolute path
  const uid = options.uid ?? process.getuid?.();
  if (uid === undefined) return undefined;
  const directory = join(options.baseDirectory ?? tmpdir(), `vkd-runtime-${uid}`);
  try {
    mkdirSync(directory, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') return undefined;
  }
  try {
    const info = lstatSync(directory);
    if (!info.isDirectory() || info.uid !== uid) return undefined;
    if ((info.mode & 0o077) !== 0) chmodSync(directory, 0o700);
  } catch {
    return undefined;
  }
  env.XDG_RUNTIME_DIR = directory;
  return directory;
}
