import { createRandom } from '@vkd/core';
import { createReidModel, type ReidModel } from '@vkd/models';
import { adamWithL2, teacherStep, type BatchArrays } from '../src/index';

/** Tiny ResNet-18 (baseWidth 8) for 32×16 inputs: fast enough on the cpu backend. */
export function tinyModel(numIdentities = 4, seed = 3): ReidModel {
  return createReidModel({ backbone: 'resnet18', baseWidth: 8, numIdentities, seed });
}

/**
 * A P×K batch of random frames whose mean colour depends on the identity, so losses can decrease.
 * @returns frames [P·K, T, 32, 16, 3].
 */
export function syntheticBatch(
  options: { identities?: number; instances?: number; frames?: number; seed?: number } = {},
): BatchArrays {
  const { identities = 3, instances = 2, frames = 2, seed = 11 } = options;
  const random = createRandom(seed);
  const b = identities * instances;
  const shape = [b, frames, 32, 16, 3] as const;
  const size = 32 * 16 * 3;
  const data = new Float32Array(b * frames * size);
  const labels = new Int32Array(b);
  for (let tracklet = 0; tracklet < b; tracklet++) {
    const identity = Math.floor(tracklet / instances);
    labels[tracklet] = identity;
    for (let i = 0; i < frames * size; i++) {
      const channel = i % 3;
      data[tracklet * frames * size + i] = (channel === identity % 3 ? 1 : -0.5) + 0.5 * random.normal();
    }
  }
  return {
    frames: data,
    shape,
    identities: labels,
    cameras: Int32Array.from(labels, (_, index) => index % 2),
    trackletIndices: Int32Array.from(labels, (_, index) => index),
  };
}

/** Epoch data that yields the same in-memory batches every epoch. */
export function repeatedBatches(batches: BatchArrays[]) {
  return { batches: () => batches };
}

/** A tiny model with a teacher step and its optimiser; `dispose()` frees both. */
export function tinyTeacherStep(options: { learningRate?: number; numIdentities?: number } = {}) {
  const model = tinyModel(options.numIdentities);
  const optimizer = adamWithL2({ learningRate: options.learningRate ?? 1e-4 });
  const step = teacherStep({ model, optimizer });
  return {
    model,
    optimizer,
    step,
    dispose() {
      optimizer.dispose();
      model.dispose();
    },
  };
}
