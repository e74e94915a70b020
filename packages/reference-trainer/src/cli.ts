#!/usr/bin/env node
/**
 * The `vkd` executable: `vkd <command> [options]`. Everything lives in `runCli`; this file only wires the process.
 */
import { COMMANDS } from './cli/commands';
import { runCli } from './cli/run-cli';
import { ensureRuntimeDirectory } from './cli/runtime-directory';

// Before any backend is probed: without XDG_RUNTIME_DIR, probing WebGPU (Dawn → Vulkan → Wayland) prints
// "XDG_RUNTIME_DIR is invalid or not set" on stderr. The `webgpu` package is imported lazily, at probe time.
ensureRuntimeDirectory(process.env);

runCli(
  process.argv.slice(2),
  { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() },
  COMMANDS,
).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`vkd: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
