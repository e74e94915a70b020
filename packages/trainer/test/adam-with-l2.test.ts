import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { CheckpointError, InvalidOptionError } from '@vkd/core';
import { expectNoLeak, maxRelativeDifference, useBackend } from '@vkd/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { adamWithL2, milestoneRange, multiStepLr } from '../src/index';

interface Reference {
  shapes: number[][];
  options: { learningRate: number; weightDecay: number; beta1: number; beta2: number; epsilon: number };
  milestones: number[];
  gamma: number;
  initial: number[][];
  steps: Array<{ epoch: number; learningRate: number; gradients: number[][]; params: number[][] }>;
}

// Produced by fixtures/make-adam-fixture.py with torch.optim.Adam(weight_decay=0.05) + MultiStepLR([2, 4], 0.1).
const reference = JSON.parse(
  readFileSync(new URL('./fixtures/adam-reference.json', import.meta.url), 'utf8'),
) as Reference;

beforeAll(() => useBackend('cpu'));

describe.each(['host', 'device', 'grouped'] as const)('adamWithL2 (%s update)', (update) => {
  it('follows torch.optim.Adam with L2 weight decay and MultiStepLR step for step', async () => {
    const variables = reference.initial.map((values, index) => tf.variable(tf.tensor(values, reference.shapes[index])));
    // Small groups, so that the grouped update splits the variables over several flat buffers.
    const optimizer = adamWithL2({ ...reference.options, update, groupElements: 7 });
    const schedule = multiStepLr({
      baseLearningRate: reference.options.learningRate,
      milestones: reference.milestones,
      gamma: reference.gamma,
    });
    for (const step of reference.steps) {
      optimizer.learningRate = schedule.learningRateAt(step.epoch);
      expect(optimizer.learningRate).toBe(step.learningRate);
      const gradients = step.gradients.map((values, index) => tf.tensor(values, reference.shapes[index]));
      await optimizer.applyGradients(variables, gradients);
      tf.dispose(gradients);
      for (const [index, variable] of variables.entries()) {
        expect(maxRelativeDifference(await variable.data(), step.params[index] as number[], 1e-3)).toBeLessThan(2e-6);
      }
    }
    expect(optimizer.iterations).toBe(reference.steps.length);
    optimizer.dispose();
    tf.dispose(variables);
  });

  it('allocates its moments once and frees everything per step', async () => {
    const variable = tf.variable(tf.ones([2, 2]));
    const optimizer = adamWithL2({ update });
    const gradient = tf.fill([2, 2], 0.5);
    await optimizer.applyGradients([variable], [gradient]);
    await expectNoLeak(() => optimizer.applyGradients([variable], [gradient]));
    await expectNoLeak(async () => {
      const state = optimizer.exportState([variable]);
      tf.dispose(Object.values(state.tensors));
    });
    optimizer.dispose();
    tf.dispose([variable, gradient]);
  });

  it('exports and imports its state so a copy continues bit-exactly', async () => {
    const make = () => tf.variable(tf.tensor([0.3, -1.2, 2.5]));
    const [a, b] = [make(), make()];
    const gradients = [tf.tensor([0.1, -0.2, 0.3]), tf.tensor([-0.5, 0.4, 0.05]), tf.tensor([1, 2, 3])];
    const first = adamWithL2({ learningRate: 0.1, weightDecay: 0.01, update });
    await first.applyGradients([a], [gradients[0] as tf.Tensor]);
    await first.applyGradients([a], [gradients[1] as tf.Tensor]);
    const state = first.exportState([a]);
    const second = adamWithL2({ learningRate: 0.1, weightDecay: 0.01, update });
    b.assign(a);
    await second.importState([b], state);
    tf.dispose(Object.values(state.tensors));
    await first.applyGradients([a], [gradients[2] as tf.Tensor]);
    await second.applyGradients([b], [gradients[2] as tf.Tensor]);
    expect(Array.from(await b.data())).toEqual(Array.from(await a.data()));
    expect(second.iterations).toBe(3);
    [first, second].forEach((optimizer) => optimizer.dispose());
    tf.dispose([a, b, ...gradients]);
  });

  it('rejects bad options, mismatched lists and foreign state with typed errors', async () => {
    expect(() => adamWithL2({ learningRate: -1 })).toThrow(InvalidOptionError);
    expect(() => adamWithL2({ beta2: 1 })).toThrow(/beta2/);
    expect(() => adamWithL2({ update: 'gpu' as 'host' })).toThrow(/adamWithL2.update/);
    const optimizer = adamWithL2({ update });
    expect(() => {
      optimizer.learningRate = Number.NaN;
    }).toThrow(InvalidOptionError);
    const variable = tf.variable(tf.zeros([2]));
    await expect(optimizer.applyGradients([variable], [])).rejects.toThrow(/one gradient per variable/);
    const wrong = { iterations: 1, tensors: { 'm.0': tf.zeros([3]), 'v.0': tf.zeros([3]) } };
    await expect(optimizer.importState([variable], wrong, 'run/epoch-0001')).rejects.toThrow(CheckpointError);
    await expect(optimizer.importState([variable], { iterations: 1, tensors: {} }, 'x')).rejects.toThrow(
      /missing optimizer tensor m\.0/,
    );
    tf.dispose([variable, ...Object.values(wrong.tensors)]);
    optimizer.dispose();
  });
});

describe('adamWithL2 grouped update', () => {
  it('gives the same values as the per-variable update, across groups, re-layouts and imported state', async () => {
    const shapes = [[3, 2], [5], [2, 2, 2], [1], [4, 3]];
    const make = () =>
      shapes.map((shape, index) =>
        tf.variable(
          tf.mul(
            tf.reshape(
              tf.add(
                tf.range(
                  0,
                  shape.reduce((a, b) => a * b, 1),
                ),
                index,
              ),
              shape,
            ),
            0.1,
          ),
        ),
      );
    const [perVariable, grouped] = [make(), make()];
    const device = adamWithL2({ learningRate: 0.01, weightDecay: 0.02, update: 'device' });
    const groupedOptimizer = adamWithL2({ learningRate: 0.01, weightDecay: 0.02, update: 'grouped', groupElements: 9 });
    const gradientsAt = (step: number) => shapes.map((shape, index) => tf.sin(tf.fill(shape, step * 0.7 + index)));
    for (let step = 0; step < 3; step++) {
      const gradients = gradientsAt(step);
      await device.applyGradients(perVariable, gradients);
      // Step 1 passes the list in another order: the groups are rebuilt and the moments follow their variables.
      const order = step === 1 ? [4, 2, 0, 1, 3] : [0, 1, 2, 3, 4];
      await groupedOptimizer.applyGradients(
        order.map((i) => grouped[i]!),
        order.map((i) => gradients[i]!),
      );
      tf.dispose(gradients);
    }
    for (const [index, variable] of grouped.entries())
      expect(Array.from(await variable.data())).toEqual(Array.from(await perVariable[index]!.data()));
    // Exported state equals the per-variable moments; importing it into a fresh grouped optimizer continues exactly.
    const state = groupedOptimizer.exportState(grouped);
    const reference = device.exportState(perVariable);
    for (const name of Object.keys(reference.tensors))
      expect(Array.from(await state.tensors[name]!.data())).toEqual(Array.from(await reference.tensors[name]!.data()));
    const resumed = adamWithL2({ learningRate: 0.01, weightDecay: 0.02, update: 'grouped', groupElements: 4 });
    const copies = grouped.map((variable) => tf.variable(tf.clone(variable)));
    await resumed.importState(copies, state);
    const gradients = gradientsAt(9);
    await device.applyGradients(perVariable, gradients);
    await resumed.applyGradients(copies, gradients);
    for (const [index, variable] of copies.entries())
      expect(Array.from(await variable.data())).toEqual(Array.from(await perVariable[index]!.data()));
    await expectNoLeak(() => resumed.applyGradients(copies, gradients));
    tf.dispose([...gradients, ...Object.values(state.tensors), ...Object.values(reference.tensors)]);
    [device, groupedOptimizer, resumed].forEach((optimizer) => optimizer.dispose());
    tf.dispose([...perVariable, ...grouped, ...copies]);
  });
});

describe('multiStepLr', () => {
  it('decays at the authors milestones', () => {
    const teacher = multiStepLr({ milestones: milestoneRange(100, 300, 100) });
    expect([0, 99, 100, 199, 200, 299].map((epoch) => teacher.learningRateAt(epoch))).toEqual([
      1e-4,
      1e-4,
      1e-4 * 0.1,
      1e-4 * 0.1,
      1e-4 * 0.1 * 0.1,
      1e-4 * 0.1 * 0.1,
    ]);
    expect(milestoneRange(300, 500, 150)).toEqual([300, 450]);
    expect(milestoneRange(50, 300, 50)).toEqual([50, 100, 150, 200, 250]);
  });

  it('rejects unordered milestones and bad gamma', () => {
    expect(() => multiStepLr({ milestones: [5, 5] })).toThrow(/strictly increasing/);
    expect(() => multiStepLr({ milestones: [1], gamma: 0 })).toThrow(InvalidOptionError);
    expect(() => milestoneRange(0, 10, 0)).toThrow(InvalidOptionError);
  });
});
