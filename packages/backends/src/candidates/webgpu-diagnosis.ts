import { existsSync, readdirSync } from 'node:fs';
import { basename } from 'node:path';

/** What the machine offers a WebGPU (Dawn) adapter; gathered by `probeGpuFacts`. */
export interface GpuFacts {
  readonly platform: NodeJS.Platform;
  /** `libvulkan.so.1` can be loaded (Linux). */
  readonly vulkanLoader: boolean;
  /** Vulkan driver manifests (ICD JSON files) found, by file name. */
  readonly vulkanDrivers: readonly string[];
  /** `/dev/dri`, `/dev/dxg` (WSL2) or `/dev/nvidia*` device nodes exist. */
  readonly gpuDevices: boolean;
  /** Dawn was asked for its OpenGL ES backend (the software CI path). */
  readonly openGles: boolean;
}

const ICD_DIRECTORIES = [
  '/usr/share/vulkan/icd.d',
  '/etc/vulkan/icd.d',
  '/usr/local/share/vulkan/icd.d',
  '/usr/local/nvidia/share/vulkan/icd.d',
];

function canLoadLibrary(name: string): boolean {
  try {
    process.dlopen({ exports: {} } as NodeJS.Module, name);
    return true;
  } catch (error) {
    // dlopen found the file but it is no Node addon: the library itself loads.
    return !/cannot open shared object file/.test(error instanceof Error ? error.message : String(error));
  }
}

function listJson(directory: string): string[] {
  try {
    return readdirSync(directory).filter((file) => file.endsWith('.json'));
  } catch {
    return [];
  }
}

/** Looks at the machine (Linux: Vulkan loader, driver manifests, GPU device nodes) to explain a missing adapter. */
export function probeGpuFacts(openGles: boolean): GpuFacts {
  const linux = process.platform === 'linux';
  const explicit = (process.env.VK_DRIVER_FILES ?? process.env.VK_ICD_FILENAMES ?? '')
    .split(':')
    .filter(Boolean)
    .map((file) => basename(file));
  return {
    platform: process.platform,
    vulkanLoader: linux && canLoadLibrary('libvulkan.so.1'),
    vulkanDrivers: [...explicit, ...ICD_DIRECTORIES.flatMap(listJson)],
    gpuDevices:
      linux &&
      (existsSync('/dev/dri') ||
        existsSync('/dev/dxg') ||
        (existsSync('/dev') && readdirSync('/dev').some((d) => /^nvidia\d+$/.test(d)))),
    openGles,
  };
}

/** Why Dawn returned no adapter, as one parenthesised phrase: "no adapter (Vulkan loader not found)". */
export function describeMissingAdapter(facts: GpuFacts): string {
  if (facts.openGles)
    return 'no adapter (OpenGL ES through EGL: Mesa EGL/GLES drivers missing? install libegl1 libgles2 libegl-mesa0 libgl1-mesa-dri)';
  if (facts.platform !== 'linux') return `no adapter (Dawn found no usable GPU on ${facts.platform})`;
  if (!facts.vulkanLoader) return 'no adapter (Vulkan loader not found: libvulkan.so.1)';
  if (facts.vulkanDrivers.length === 0) return 'no adapter (Vulkan loader found, but no Vulkan driver manifest (ICD))';
  const drivers = facts.vulkanDrivers
    .map((file) => file.replace(/(_icd)?(\.x86_64|\.aarch64|\.i686)?\.json$/, ''))
    .join(', ');
  if (!facts.gpuDevices) {
    return `no adapter (no GPU device: /dev/dri, /dev/dxg and /dev/nvidia* are absent; Vulkan drivers ${drivers}; Dawn rejects Mesa lavapipe)`;
  }
  return `no adapter (Dawn accepted no Vulkan device; drivers: ${drivers})`;
}
