import { InvalidOptionError } from '@vkd/core';
import { memoryLimits, type MemoryLimits } from '@vkd/backends';
import type { ReidModel } from '@vkd/models';
import { estimateStepBytes, measureFrameMemory, type FrameMemory, type StepBytes, type StepShape } from '@vkd/trainer';
import type { DataSettings, TrainingSettings } from '../config/stage-settings';
import type { RunLog } from './run-log';

/**
 * Above this share of the backend's total the preflight warns: on wasm the estimate is 0.9–1.2× the measured heap at
 * batch 16 for ResNet-50 256×128 and 0.56× for ResNet-18 128×64, whose heap the batch-independent Adam update dominates
 * (tools/bench/train/README.md, "Training memory per frame").
 */
const NEAR_LIMIT = 0.8;
const MB = 1024 ** 2;
const GB = 1024 ** 3;
/** `24.4 GiB`, `96 MiB`, or `340 KiB` under 1 MiB (a small network's bytes per frame, never `0 MiB`). */
const size = (bytes: number) =>
  bytes >= GB
    ? `${(bytes / GB).toFixed(1)} GiB`
    : bytes >= MB
      ? `${Math.round(bytes / MB)} MiB`
      : `${Math.round(bytes / 1024)} KiB`;

/** What {@link checkBatchMemory} measured and compared (also written to the run's settings). */
export interface BatchMemory {
  readonly trainingBytesPerFrame: number;
  readonly inferenceBytesPerFrame: number;
  readonly totalBytes: number;
  readonly largestTensorBytes: number;
  readonly limit: string;
}

/** The batch of a stage: the trained network sees N (teacher) or M (student) frames; a frozen teacher N. */
export interface StageBatch {
  readonly training: TrainingSettings;
  /** M, for the VKD stage (the student); absent for the teacher stage. */
  readonly studentFrames?: number;
  /** The frozen teacher of the VKD stage. */
  readonly teacher?: ReidModel;
}

function shapeOf(batch: StageBatch, frameMemory: FrameMemory): StepShape {
  const { identitiesPerBatch, instancesPerIdentity, framesPerTracklet } = batch.training;
  const tracklets = identitiesPerBatch * instancesPerIdentity;
  if (batch.studentFrames === undefined) return { tracklets, trainedFrames: framesPerTracklet };
  const teacherWeightBytes = batch.teacher
    ? batch.teacher.variables().reduce((sum, variable) => sum + variable.size * 4, 0)
    : frameMemory.weightBytes;
  return { tracklets, trainedFrames: batch.studentFrames, teacherFrames: framesPerTracklet, teacherWeightBytes };
}

function overLimit(bytes: StepBytes, limits: MemoryLimits): 'total' | 'largest' | undefined {
  if (limits.totalBytes !== undefined && bytes.totalBytes > limits.totalBytes) return 'total';
  if (limits.largestTensorBytes !== undefined && bytes.largestTensorBytes > limits.largestTensorBytes) return 'largest';
  return undefined;
}

/** The batch with N frames per tracklet instead (the student's M is capped at N). */
function withFrames(shape: StepShape, frames: number): StepShape {
  return shape.teacherFrames === undefined
    ? { ...shape, trainedFrames: frames }
    : { ...shape, teacherFrames: frames, trainedFrames: Math.min(shape.trainedFrames, frames) };
}

/**
 * The batch to suggest, keeping K: the largest N (views matter most to VKD) for which some P ≥ 2 fits, with the
 * largest such P (at most the current one). `undefined` when not even P = 2, N = 1 fits.
 */
function fittingBatch(
  frameMemory: FrameMemory,
  shape: StepShape,
  limits: MemoryLimits,
  p: number,
  k: number,
  n: number,
): { p: number; n: number; frames: number; bytes: StepBytes } | undefined {
  for (let frames = n; frames >= 1; frames--) {
    for (let identities = p; identities >= 2; identities--) {
      const candidate = withFrames({ ...shape, tracklets: identities * k }, frames);
      const bytes = estimateStepBytes(frameMemory, candidate);
      if (overLimit(bytes, limits)) continue;
      return {
        p: identities,
        n: frames,
        frames: identities * k * Math.max(candidate.trainedFrames, candidate.teacherFrames ?? 0),
        bytes,
      };
    }
  }
  return undefined;
}

/** With activation recomputation: `about X, fits` or `about X, still too much`; undefined where it changes nothing. */
async function recomputeFits(
  model: ReidModel,
  data: DataSettings,
  shape: StepShape,
  limits: MemoryLimits,
): Promise<string | undefined> {
  const frameMemory = await measureFrameMemory(model, [data.height, data.width], { recompute: true });
  const bytes = estimateStepBytes(frameMemory, shape);
  if (overLimit(bytes, limits)) return undefined;
  return `${size(frameMemory.trainingBytesPerFrame)} per frame, about ${size(bytes.totalBytes)}: fits`;
}

/**
 * `--recompute` recomputes ResNet stages (`ForwardOptions.recompute` of `@vkd/models`); other backbones ignore it.
 * @throws InvalidOptionError (exit 2) for `--recompute` on a backbone it does not change.
 */
function checkRecomputeApplies(model: ReidModel, training: Pick<TrainingSettings, 'recompute'>): void {
  if (training.recompute && !model.config.backbone.startsWith('resnet')) {
    throw new InvalidOptionError(
      '--recompute',
      true,
      `It recomputes ResNet stages only; the ${model.config.backbone} backbone would train exactly as without it (same memory). Remove --recompute, or use a resnet backbone.`,
    );
  }
}

/**
 * The batch-memory preflight, run once before training: measures the bytes per frame of this model and input size on
 * the active backend (`measureFrameMemory`), prints them with the batch's estimate and the backend's limit, and
 * refuses a batch that cannot fit instead of letting the backend fail mid-step (on wasm: `RangeError: Invalid typed
 * array length` once its 4 GiB heap is full).
 * @param model the network the stage trains (teacher stage: the teacher; VKD stage: the student).
 * @throws InvalidOptionError (exit 2) naming the batch, the memory it needs, the limit, and what to change
 *   (`--device`, `--identities-per-batch`, `--frames-per-tracklet`), or `--recompute` on a non-ResNet backbone.
 */
export async function checkBatchMemory(
  model: ReidModel,
  data: DataSettings,
  batch: StageBatch,
  log: RunLog,
): Promise<BatchMemory> {
  checkRecomputeApplies(model, batch.training);
  const recompute = batch.training.recompute;
  const frameMemory = await measureFrameMemory(model, [data.height, data.width], { recompute });
  const limits = memoryLimits();
  const shape = shapeOf(batch, frameMemory);
  const bytes = estimateStepBytes(frameMemory, shape);
  const { identitiesPerBatch: p, instancesPerIdentity: k, framesPerTracklet: n } = batch.training;
  const frames = shape.tracklets * shape.trainedFrames;
  const frozen = shape.teacherFrames
    ? `, frozen teacher on ${shape.tracklets * shape.teacherFrames} frames (${size(frameMemory.inferenceBytesPerFrame)} per frame)`
    : '';
  log.info(
    `memory: ${size(frameMemory.trainingBytesPerFrame)} per training frame (${model.config.backbone} ${data.height}×${data.width}, ` +
      `measured on ${limits.backend}); batch P·K = ${shape.tracklets} tracklets × ${shape.trainedFrames} frames = ${frames} frames${frozen}: ` +
      `about ${size(bytes.totalBytes)} (largest tensor ${size(bytes.largestTensorBytes)}); limit: ${limits.description}`,
  );
  const over = overLimit(bytes, limits);
  if (over) {
    const fit = fittingBatch(frameMemory, shape, limits, p, k, n);
    const needs =
      over === 'total'
        ? `about ${size(bytes.totalBytes)}, more than the ${limits.description}`
        : `a single tensor of ${size(bytes.largestTensorBytes)}, more than the ${limits.description}`;
    const withRecompute = recompute ? undefined : await recomputeFits(model, data, shape, limits);
    const changes = [
      ...(withRecompute ? [`add --recompute (${withRecompute}; about one more forward pass of time per step)`] : []),
      `${withRecompute ? 'or ' : ''}run it on a device with more memory (--device webgpu or --device tensorflow on a GPU with at least ${size(bytes.totalBytes * 1.1)})`,
      fit
        ? `or a smaller batch: --identities-per-batch ${fit.p}${fit.n !== n ? ` --frames-per-tracklet ${fit.n}` : ''} ` +
          `(${fit.frames} frames, about ${size(fit.bytes.totalBytes)}) fits; --identities-per-batch (now ${p}) and ` +
          `--frames-per-tracklet (now ${n}) trade off`
        : `no batch of at least 2 identities × ${k} tracklets fits even with --frames-per-tracklet 1`,
    ];
    throw new InvalidOptionError(
      'batch',
      `${p}×${k}×${shape.trainedFrames} = ${frames} frames`,
      `This batch needs ${needs} (${size(frameMemory.trainingBytesPerFrame)} per frame, measured before training). ` +
        `To train: ${changes.join('; ')}. Smaller batches change BatchNorm statistics and the P×K sampling of the authors' recipe.`,
    );
  }
  if (limits.totalBytes !== undefined && bytes.totalBytes > NEAR_LIMIT * limits.totalBytes) {
    log.warn(
      `memory: the batch's estimate is within ${Math.round((1 - NEAR_LIMIT) * 100)}% of the ${limits.description}; allocator fragmentation can still exhaust it (a smaller --identities-per-batch leaves room)`,
    );
  }
  return {
    trainingBytesPerFrame: frameMemory.trainingBytesPerFrame,
    inferenceBytesPerFrame: frameMemory.inferenceBytesPerFrame,
    totalBytes: bytes.totalBytes,
    largestTensorBytes: bytes.largestTensorBytes,
    limit: limits.description,
  };
}
