import { createReidModel } from '@vkd/models';
import { expectNoLeak, useBackend } from '@vkd/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { estimateStepBytes, measureFrameMemory, type FrameMemory } from '../src/index';

beforeAll(async () => {
  await useBackend('cpu');
});

describe('measureFrameMemory', () => {
  it('measures per-frame bytes that scale with the pixels, leaves no tensor and does not change the model', async () => {
    const model = createReidModel({ backbone: 'resnet18', baseWidth: 4, numIdentities: 3, seed: 4 });
    const before = Array.from(await model.variables()[0]!.data());
    const small = await expectNoLeak(() => measureFrameMemory(model, [32, 16]));
    const large = await expectNoLeak(() => measureFrameMemory(model, [64, 32]));
    expect(small.trainingBytesPerFrame).toBeGreaterThan(0);
    // Activations are proportional to H·W: about 4× the bytes per frame for 4× the pixels (the head's share is tiny;
    // with blocks that free memory as the backward pass goes, the peak falls at a different op at each size: 5.3×).
    expect(large.trainingBytesPerFrame / small.trainingBytesPerFrame).toBeGreaterThan(3.3);
    expect(large.trainingBytesPerFrame / small.trainingBytesPerFrame).toBeLessThan(5.8);
    // A forward pass without a tape keeps far less than forward + backward.
    expect(large.inferenceBytesPerFrame).toBeLessThan(large.trainingBytesPerFrame / 2);
    // The input frame alone (64·32·3 floats) is a lower bound of the largest tensor per frame.
    expect(large.largestTensorBytesPerFrame).toBeGreaterThanOrEqual(64 * 32 * 3 * 4);
    expect(large.weightBytes).toBe(model.variables().reduce((sum, variable) => sum + variable.size * 4, 0));
    expect(Array.from(await model.variables()[0]!.data())).toEqual(before);
    await expect(measureFrameMemory(model, [0, 16])).rejects.toThrow(/measureFrameMemory.imageSize/);
    model.dispose();
  });
});

describe('estimateStepBytes', () => {
  const memory: FrameMemory = {
    trainingBytesPerFrame: 100,
    inferenceBytesPerFrame: 30,
    largestTensorBytesPerFrame: 10,
    trainingBaseBytes: 50,
    weightBytes: 1000,
    trainableBytes: 900,
    probeFrames: [2, 4],
  };

  it('teacher stage: weights + 2 Adam moments + base + B·N·per-frame (hand-derived)', () => {
    const bytes = estimateStepBytes(memory, { tracklets: 32, trainedFrames: 8 });
    expect(bytes.totalBytes).toBe(1000 + 1800 + 50 + 32 * 8 * 100);
    expect(bytes.largestTensorBytes).toBe(32 * 8 * 10);
    expect(bytes.bytesPerTracklet).toBe(800);
  });

  it('VKD stage: the larger of the teacher forward (N frames) and the student pass (M frames), plus teacher weights', () => {
    // The teacher's forward, 48·8·30 = 11520, exceeds the student's pass, 48·2·100 + 50 = 9650.
    const bytes = estimateStepBytes(memory, {
      tracklets: 48,
      trainedFrames: 2,
      teacherFrames: 8,
      teacherWeightBytes: 1000,
    });
    expect(bytes.totalBytes).toBe(1000 + 1800 + 1000 + 48 * 8 * 30);
    expect(bytes.bytesPerTracklet).toBe(240);
    const studentBound = estimateStepBytes(memory, {
      tracklets: 48,
      trainedFrames: 4,
      teacherFrames: 8,
      teacherWeightBytes: 1000,
    });
    expect(studentBound.totalBytes).toBe(1000 + 1800 + 1000 + 50 + 48 * 4 * 100);
  });
});
