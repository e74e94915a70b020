export { selectBackend, AUTO_BACKEND_ORDER } from './select-backend';
export type { BackendName, Device, SelectBackendOptions, SelectedBackend } from './select-backend';
export type { AdapterDescription } from './candidates/candidate';
export { registerFastKernels, unregisterFastKernels } from './register-fast-kernels';
export type { FastKernelReport } from './register-fast-kernels';
export { SOFTWARE_WEBGPU } from './candidates/webgpu-candidate';
export type { WebGpuOptions } from './candidates/webgpu-candidate';
export { describeMissingAdapter, probeGpuFacts } from './candidates/webgpu-diagnosis';
export type { GpuFacts } from './candidates/webgpu-diagnosis';
