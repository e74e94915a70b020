// Per-kernel CPU time of a synchronous backend (wasm, cpu): wraps every registered kernel of the backend with
// process.cpuUsage(). tf.profile measures wall time, which on the shared 2-core VM mostly measures other jobs.
// Times are inclusive: a composed kernel's time contains the kernels it runs.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig } from '@tensorflow/tfjs-core';

export interface KernelCpuTime {
  kernel: string;
  cpuMs: number;
  calls: number;
}

/** Starts recording; the returned function stops, restores the kernels and returns the totals, largest first. */
export function startCpuProfile(backendName: string): () => KernelCpuTime[] {
  const totals = new Map<string, { micros: number; calls: number }>();
  const originals: KernelConfig[] = tf.getKernelsForBackend(backendName).map((config) => ({ ...config }));
  for (const original of originals) {
    const wrapped: KernelConfig = {
      ...original,
      kernelFunc: (args) => {
        const start = process.cpuUsage();
        try {
          return original.kernelFunc(args);
        } finally {
          const used = process.cpuUsage(start);
          const entry = totals.get(original.kernelName) ?? { micros: 0, calls: 0 };
          entry.micros += used.user + used.system;
          entry.calls += 1;
          totals.set(original.kernelName, entry);
        }
      },
    };
    tf.unregisterKernel(original.kernelName, backendName);
    tf.registerKernel(wrapped);
  }
  return () => {
    for (const original of originals) {
      tf.unregisterKernel(original.kernelName, backendName);
      tf.registerKernel(original);
    }
    return [...totals]
      .map(([kernel, v]) => ({ kernel, cpuMs: Math.round(v.micros / 100) / 10, calls: v.calls }))
      .sort((a, b) => b.cpuMs - a.cpuMs);
  };
}
