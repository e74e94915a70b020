import type { TensorInfo } from '@tensorflow/tfjs-core';

/** Threads per workgroup of the column reductions (one workgroup per channel) and of the element-wise programs. */
const WORKGROUP = 64;
/** tfjs-webgpu's limit of workgroups per dispatch dimension, for the flat (element-wise) programs. */
const MAX_WORKGROUPS = 65535;

/** A uniform value of a program, as tfjs-webgpu's `runWebGPUProgram` takes it. */
export interface Uniform {
  type: 'int32' | 'float32';
  data: number[];
}

/** The part of tfjs-backend-webgpu's `WebGPUBackend` the fused kernels use. */
export interface WebGpuProgramRunner {
  runWebGPUProgram(program: object, inputs: TensorInfo[], dtype: 'float32', uniforms: Uniform[]): TensorInfo;
}

/** Which column sums a {@link ColumnSumsProgram} computes. */
export type ColumnSumKind = 'mean' | 'variance' | 'grad' | 'gradRelu';

/**
 * Per-channel sums over the rows of `[M, C]`, one workgroup per channel (threads stride over the rows, then a tree in
 * workgroup memory). `mean`: Σx/M; `variance`: Σ(x − mean)²/M; `grad`/`gradRelu`: Σdz and Σdz·(x − mean) with
 * dz = dy (·[y > 0]), as the two halves of a [2·C] output. Inputs: x | x, mean | dy, x, mean (, y).
 */
export class ColumnSumsProgram {
  readonly variableNames: string[];
  readonly uniforms = 'channels : i32, rows : i32, scale : f32,';
  readonly workgroupSize: [number, number, number] = [WORKGROUP, 1, 1];
  /** Flat, so that the output is [C] (or [2·C]); the dispatch is one workgroup per channel all the same. */
  readonly dispatchLayout = { x: [0] };
  readonly dispatch: [number, number, number];
  readonly outputShape: number[];
  readonly shaderKey: string;

  constructor(
    private readonly kind: ColumnSumKind,
    channels: number,
  ) {
    this.variableNames =
      kind === 'mean'
        ? ['x']
        : kind === 'variance'
          ? ['x', 'mean']
          : ['dy', 'x', 'mean', ...(kind === 'gradRelu' ? ['y'] : [])];
    this.outputShape = [kind === 'grad' || kind === 'gradRelu' ? 2 * channels : channels];
    this.dispatch = [channels, 1, 1];
    this.shaderKey = `vkdColumnSums_${kind}`;
  }

  getUserCode(): string {
    const grad = this.kind === 'grad' || this.kind === 'gradRelu';
    const step =
      this.kind === 'mean'
        ? 'a = a + x[i];'
        : this.kind === 'variance'
          ? 'let d = x[i] - mean[c]; a = a + d * d;'
          : `var dz = dy[i];${this.kind === 'gradRelu' ? ' if (!(y[i] > 0.0)) { dz = 0.0; }' : ''}
             a = a + dz; b = b + dz * (x[i] - mean[c]);`;
    return `
      var<workgroup> partA : array<f32, ${WORKGROUP}>;
      var<workgroup> partB : array<f32, ${WORKGROUP}>;
      fn main(index : i32) {
        let c = i32(workgroupId.x);
        let t = i32(localId.x);
        var a = 0.0;
        var b = 0.0;
        for (var r = t; r < uniforms.rows; r = r + ${WORKGROUP}) {
          let i = r * uniforms.channels + c;
          ${step}
        }
        partA[t] = a;
        partB[t] = b;
        workgroupBarrier();
        for (var s = ${WORKGROUP / 2}; s > 0; s = s / 2) {
          if (t < s) {
            partA[t] = partA[t] + partA[t + s];
            partB[t] = partB[t] + partB[t + s];
          }
          workgroupBarrier();
        }
        if (t == 0) {
          result[c] = partA[0] * uniforms.scale;
          ${grad ? 'result[uniforms.channels + c] = partB[0];' : ''}
        }
      }
    `;
  }
}

/**
 * An element-wise program over `outputShape` (flat index; `c = index % channels` is the channel): `body` assigns
 * `value` from the named inputs, the uniforms of `uniforms` and `c`.
 */
export class ElementwiseProgram {
  readonly workgroupSize: [number, number, number] = [WORKGROUP, 1, 1];
  readonly dispatchLayout: { x: number[] };
  readonly dispatch: [number, number, number];
  readonly size = true;
  readonly outputShape: number[];
  readonly uniforms: string;

  constructor(
    readonly shaderKey: string,
    readonly variableNames: string[],
    outputShape: readonly number[],
    uniformNames: readonly string[],
    private readonly body: string,
  ) {
    this.outputShape = [...outputShape];
    this.dispatchLayout = { x: this.outputShape.map((_, i) => i) };
    const groups = Math.ceil(this.outputShape.reduce((a, b) => a * b, 1) / WORKGROUP);
    // tfjs-webgpu spreads a flat dispatch over y (and z) past its per-dimension limit; getGlobalIndex() follows.
    this.dispatch = [Math.min(groups, MAX_WORKGROUPS), Math.ceil(groups / MAX_WORKGROUPS), 1];
    this.uniforms = ['channels : i32,', ...uniformNames.map((name) => `${name} : f32,`)].join(' ');
  }

  getUserCode(): string {
    return `
      fn main(index : i32) {
        if (index < uniforms.size) {
          let c = index % uniforms.channels;
          var value = 0.0;
          ${this.body}
          result[index] = value;
        }
      }
    `;
  }
}

/** Runs a program with `channels` (int) then `floats` (in the order of the program's uniform names) as uniforms. */
export function runProgram(
  backend: unknown,
  program: object,
  inputs: TensorInfo[],
  channels: number,
  floats: readonly number[] = [],
): TensorInfo {
  return (backend as WebGpuProgramRunner).runWebGPUProgram(program, inputs, 'float32', [
    { type: 'int32', data: [channels] },
    ...floats.map((value): Uniform => ({ type: 'float32', data: [value] })),
  ]);
}

/** Column sums (see {@link ColumnSumsProgram}) of `rows` × `channels`, scaled by `scale`. */
export function runColumnSums(
  backend: unknown,
  kind: ColumnSumKind,
  inputs: TensorInfo[],
  rows: number,
  channels: number,
  scale: number,
): TensorInfo {
  return (backend as WebGpuProgramRunner).runWebGPUProgram(new ColumnSumsProgram(kind, channels), inputs, 'float32', [
    { type: 'int32', data: [channels] },
    { type: 'int32', data: [rows] },
    { type: 'float32', data: [scale] },
  ]);
}
