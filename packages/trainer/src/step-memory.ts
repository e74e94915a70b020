import * as tf from '@tensorflow/tfjs-core';
import { InvalidOptionError, createRandom } from '@vkd/core';
import type { ReidModel } from '@vkd/models';

/** Bytes one more frame costs, measured on the active backend for one model and input size. */
export interface FrameMemory {
  /** Forward + backward (training BatchNorm): saved activations, their gradients and the input, per frame. */
  readonly trainingBytesPerFrame: number;
  /** Forward only (the frozen VKD teacher, batch-statistics BN, no tape), peak live bytes per frame. */
  readonly inferenceBytesPerFrame: number;
  /** The largest single tensor of the training pass, per frame (bounded by the backend's largest buffer). */
  readonly largestTensorBytesPerFrame: number;
  /** Bytes of the training pass that do not grow with the batch (weight gradients, workspace). */
  readonly trainingBaseBytes: number;
  /** Bytes of the model's variables (weights and BN statistics). */
  readonly weightBytes: number;
  /** Bytes of its trainable variables (what Adam keeps two moments of). */
  readonly trainableBytes: number;
  /** Frames of the two probes the slopes come from. */
  readonly probeFrames: readonly [number, number];
}

const BYTES_PER_FLOAT = 4;
const PROBE_FRAMES: readonly [number, number] = [2, 4];

function variableBytes(variables: readonly tf.Variable[]): number {
  return variables.reduce((sum, variable) => sum + variable.size * BYTES_PER_FLOAT, 0);
}

function randomFrames(frames: number, [height, width]: readonly [number, number], seed: number): tf.Tensor4D {
  const random = createRandom(seed);
  const data = new Float32Array(frames * height * width * 3);
  for (let index = 0; index < data.length; index++) data[index] = random.normal();
  return tf.tensor4d(data, [frames, height, width, 3]);
}

interface Probe {
  readonly peak: number;
  readonly largest: number;
}

/** Peak bytes above what was live before, and the largest kernel output, of `run` (tensors it leaves are freed). */
async function probe(run: () => tf.Tensor[]): Promise<Probe> {
  const before = tf.memory().numBytes;
  let left: tf.Tensor[] = [];
  const info = await tf.profile(() => {
    left = run();
  });
  tf.dispose(left);
  const largest = info.kernels.reduce(
    (max, kernel) =>
      Math.max(max, ...kernel.outputShapes.map((shape) => (shape ?? []).reduce((a, b) => a * b, 1) * BYTES_PER_FLOAT)),
    0,
  );
  return { peak: info.peakBytes - before, largest };
}

/**
 * Measures what a training step costs per frame on the active backend: `tf.profile` of one forward + backward pass
 * (and of one forward pass) of a copy of `model` on 2 and on 4 random frames at `imageSize`; the per-frame cost is the
 * slope between the two, the rest is the base. Costs two small passes at the real input size (seconds for a ResNet-50
 * at 256×128 on wasm); `model` is not changed.
 * @param imageSize `[H, W]` of the training frames.
 * @param options `recompute`: measure the training pass with activation recomputation, as the steps will run it.
 * @throws InvalidOptionError for a bad image size.
 */
export async function measureFrameMemory(
  model: ReidModel,
  imageSize: readonly [number, number],
  options: { recompute?: boolean } = {},
): Promise<FrameMemory> {
  const [height, width] = imageSize;
  if (!(Number.isInteger(height) && Number.isInteger(width) && height > 0 && width > 0)) {
    throw new InvalidOptionError('measureFrameMemory.imageSize', imageSize, 'Expected [H, W], positive integers.');
  }
  // A copy: the training pass updates BatchNorm moving statistics.
  const copy = model.clone();
  try {
    const variables = copy.trainableVariables();
    const training = async (frames: number) =>
      probe(() => {
        const { value, grads } = tf.variableGrads(() => {
          const input = randomFrames(frames, imageSize, frames);
          const { embeddings, logits } = copy.forward(input, { training: true, recompute: options.recompute ?? false });
          return tf.add(tf.sum(embeddings), tf.sum(logits)) as tf.Scalar;
        }, variables);
        return [value, ...Object.values(grads)];
      });
    const inference = async (frames: number) =>
      probe(() => {
        const outputs = tf.tidy(() => {
          const { embeddings, logits } = copy.forward(randomFrames(frames, imageSize, frames), {
            training: true,
            batchNorm: 'batch-stats-frozen',
          });
          return [embeddings, logits];
        });
        return outputs;
      });
    const [small, large] = PROBE_FRAMES;
    const trainSmall = await training(small);
    const trainLarge = await training(large);
    const inferSmall = await inference(small);
    const inferLarge = await inference(large);
    const slope = (a: number, b: number) => Math.max(0, (b - a) / (large - small));
    const trainingBytesPerFrame = slope(trainSmall.peak, trainLarge.peak);
    return {
      trainingBytesPerFrame,
      inferenceBytesPerFrame: slope(inferSmall.peak, inferLarge.peak),
      largestTensorBytesPerFrame: Math.max(trainLarge.largest, inferLarge.largest) / large,
      trainingBaseBytes: Math.max(0, trainSmall.peak - small * trainingBytesPerFrame),
      weightBytes: variableBytes(model.variables()),
      trainableBytes: variableBytes(model.trainableVariables()),
      probeFrames: PROBE_FRAMES,
    };
  } finally {
    copy.dispose();
  }
}

/** A training stage's batch, for {@link estimateStepBytes}. */
export interface StepShape {
  /** B = P·K tracklets per batch. */
  readonly tracklets: number;
  /** Frames per tracklet of the trained network: N (teacher stage) or M (student). */
  readonly trainedFrames: number;
  /** Frames per tracklet of a frozen teacher run before the student (VKD stage), 0 when none. */
  readonly teacherFrames?: number;
  /** Weights of that frozen teacher (it stays in memory for the whole stage). */
  readonly teacherWeightBytes?: number;
}

/** Memory a training step needs, from {@link measureFrameMemory}. */
export interface StepBytes {
  /** Everything live at the step's peak: weights, Adam moments, the frozen teacher, the pass itself. */
  readonly totalBytes: number;
  /** The largest single tensor of the step. */
  readonly largestTensorBytes: number;
  /** Bytes that do not depend on the batch (weights, Adam moments, teacher weights, gradients). */
  readonly fixedBytes: number;
  /** Bytes per tracklet of the batch (the rest of `totalBytes`). */
  readonly bytesPerTracklet: number;
}

/**
 * Memory of one training step of a given batch: weights + Adam's two moments + (frozen teacher weights) + the larger
 * of the teacher's forward pass (VKD stage; it finishes before the student's starts) and the trained network's
 * forward + backward pass.
 */
export function estimateStepBytes(memory: FrameMemory, shape: StepShape): StepBytes {
  const teacherFrames = shape.teacherFrames ?? 0;
  const trainPerTracklet = shape.trainedFrames * memory.trainingBytesPerFrame;
  const teacherPerTracklet = teacherFrames * memory.inferenceBytesPerFrame;
  const persistent = memory.weightBytes + 2 * memory.trainableBytes + (shape.teacherWeightBytes ?? 0);
  const training = memory.trainingBaseBytes + shape.tracklets * trainPerTracklet;
  const teacher = shape.tracklets * teacherPerTracklet;
  const bytesPerTracklet = training >= teacher ? trainPerTracklet : teacherPerTracklet;
  const fixedBytes = persistent + (training >= teacher ? memory.trainingBaseBytes : 0);
  return {
    totalBytes: persistent + Math.max(training, teacher),
    largestTensorBytes:
      shape.tracklets * Math.max(shape.trainedFrames, teacherFrames) * memory.largestTensorBytesPerFrame,
    fixedBytes,
    bytesPerTracklet,
  };
}
