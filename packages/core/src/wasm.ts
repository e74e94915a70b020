// @vkd/core/wasm: WebAssembly kernels and the shared-memory worker-thread pool that runs them (used by the distance
// kernels of @vkd/metrics and the convolution kernels of @vkd/backends). Worker threads are reached through
// `process.getBuiltinModule` at run time, so this entry bundles for browsers too (there it runs on one thread).
export { CallList, canUseWasmThreads, hardwareThreads, runOnThreads } from './wasm-threads';
export type { SharedWasmKernel } from './wasm-threads';
export { instantiateWasmKernel } from './wasm-kernel';
export type { WasmKernelInstance, WasmKernelOptions, WasmMemory } from './wasm-kernel';
