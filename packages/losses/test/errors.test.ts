import * as tf from '@tensorflow/tfjs-core';
import { InvalidOptionError, ShapeMismatchError, VkdError } from '@vkd/core';
import { useBackend } from '@vkd/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DtypeMismatchError,
  batchHardTriplet,
  crossEntropy,
  distancePreserving,
  logitDistillation,
  logitMatching,
  teacherObjective,
  vkdObjective,
} from '../src/index';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

describe('typed errors', () => {
  let tensors: Record<string, tf.Tensor>;
  let before: number;
  beforeAll(async () => {
    await useBackend('cpu');
    tensors = {
      logits: tf.zeros([4, 3]),
      embeddings: tf.zeros([4, 2]),
      labels: tf.tensor1d([0, 0, 1, 1], 'int32'),
      floatLabels: tf.tensor1d([0, 0, 1, 1], 'float32'),
      shortLabels: tf.tensor1d([0, 1, 1], 'int32'),
      rank3: tf.zeros([4, 3, 1]),
      empty: tf.zeros([0, 3]),
      emptyLabels: tf.tensor1d([], 'int32'),
      intLogits: tf.zeros([4, 3], 'int32'),
      wideLogits: tf.zeros([4, 5]),
      otherBatch: tf.zeros([5, 2]),
    };
    before = tf.memory().numTensors;
  });
  afterAll(() => {
    expect(tf.memory().numTensors).toBe(before); // failed checks allocate nothing
    tf.dispose(Object.values(tensors));
  });

  it('ShapeMismatchError names the argument, the expected and the actual shape', () => {
    const t = tensors;
    const error = thrown(() => crossEntropy(t.logits!, t.shortLabels!)) as ShapeMismatchError;
    expect(error).toBeInstanceOf(ShapeMismatchError);
    expect(VkdError.isInstance(error)).toBe(true);
    expect(error.where).toBe('crossEntropy.labels');
    expect(error.expected).toBe('[B=4]');
    expect(error.actual).toBe('[3]');
    expect(error.message).toBe('crossEntropy.labels has shape [3], expected [B=4].');

    const rank = thrown(() => batchHardTriplet(t.rank3!, t.labels!)) as ShapeMismatchError;
    expect([rank.where, rank.expected, rank.actual]).toEqual(['batchHardTriplet.embeddings', '[B, D]', '[4, 3, 1]']);

    const classes = thrown(() => logitDistillation(t.logits!, t.wideLogits!)) as ShapeMismatchError;
    expect([classes.where, classes.expected, classes.actual]).toEqual([
      'logitDistillation.studentLogits',
      '[B=4, I=3]',
      '[4, 5]',
    ]);
    expect(() => logitMatching(t.logits!, t.wideLogits!)).toThrow(ShapeMismatchError);

    const batchSize = thrown(() => distancePreserving(t.embeddings!, t.otherBatch!)) as ShapeMismatchError;
    expect([batchSize.where, batchSize.expected, batchSize.actual]).toEqual([
      'distancePreserving.studentEmbeddings',
      '[B=4, D_S]',
      '[5, 2]',
    ]);

    const empty = thrown(() => crossEntropy(t.empty!, t.emptyLabels!)) as ShapeMismatchError;
    expect([empty.where, empty.expected, empty.actual]).toEqual(['crossEntropy.logits', '[B ≥ 1, I]', '[0, 3]']);
  });

  it('objectives name the nested argument', () => {
    const t = tensors;
    const teacher = { embeddings: t.embeddings!, logits: t.logits! };
    const error = thrown(() =>
      vkdObjective({ teacher, student: { embeddings: t.embeddings!, logits: t.wideLogits! }, labels: t.labels! }),
    ) as ShapeMismatchError;
    expect([error.where, error.actual]).toEqual(['vkdObjective.teacher.logits', '[4, 3]']);
    const student = thrown(() =>
      vkdObjective({ teacher, student: { embeddings: t.otherBatch!, logits: t.logits! }, labels: t.labels! }),
    ) as ShapeMismatchError;
    expect(student.where).toBe('vkdObjective.student.logits');
    const labels = thrown(() =>
      teacherObjective({ embeddings: t.embeddings!, logits: t.logits!, labels: t.shortLabels! }),
    ) as ShapeMismatchError;
    expect(labels.where).toBe('teacherObjective.labels');
    const missing = thrown(() => vkdObjective({ teacher, labels: t.labels! } as never)) as InvalidOptionError;
    expect(missing).toBeInstanceOf(InvalidOptionError);
    expect(missing.option).toBe('vkdObjective.student.embeddings');
  });

  it('DtypeMismatchError for float labels and integer logits', () => {
    const t = tensors;
    const labels = thrown(() => batchHardTriplet(t.embeddings!, t.floatLabels!)) as DtypeMismatchError;
    expect(labels).toBeInstanceOf(DtypeMismatchError);
    expect(VkdError.isInstance(labels)).toBe(true);
    expect([labels.where, labels.expected, labels.actual]).toEqual(['batchHardTriplet.labels', 'int32', 'float32']);
    expect(labels.message).toContain("tf.cast(x, 'int32')");
    const logits = thrown(() => crossEntropy(t.intLogits!, t.labels!)) as DtypeMismatchError;
    expect([logits.where, logits.expected, logits.actual]).toEqual(['crossEntropy.logits', 'float32', 'int32']);
  });

  it('InvalidOptionError for bad options, naming the option', () => {
    const t = tensors;
    const cases: Array<[() => unknown, string]> = [
      [() => logitDistillation(t.logits!, t.logits!, { temperature: -1 }), 'logitDistillation.options.temperature'],
      [() => logitDistillation(t.logits!, t.logits!, { temperature: 0 }), 'logitDistillation.options.temperature'],
      [
        () => logitDistillation(t.logits!, t.logits!, { temperature: Number.NaN }),
        'logitDistillation.options.temperature',
      ],
      [
        () => logitDistillation(t.logits!, t.logits!, { temprature: 5 } as never),
        'logitDistillation.options.temprature',
      ],
      [() => crossEntropy(t.logits!, t.labels!, { labelSmoothing: 1 }), 'crossEntropy.options.labelSmoothing'],
      [() => crossEntropy(t.logits!, t.labels!, { labelSmoothing: -0.1 }), 'crossEntropy.options.labelSmoothing'],
      [
        () => crossEntropy(t.logits!, t.labels!, { labelSmoothing: '0.1' as never }),
        'crossEntropy.options.labelSmoothing',
      ],
      [() => batchHardTriplet(t.embeddings!, t.labels!, { margin: -0.3 }), 'batchHardTriplet.options.margin'],
      [
        () => batchHardTriplet(t.embeddings!, t.labels!, { margin: 'hard' as never }),
        'batchHardTriplet.options.margin',
      ],
      [() => batchHardTriplet(t.embeddings!, t.labels!, { margin: Infinity }), 'batchHardTriplet.options.margin'],
      [
        () =>
          teacherObjective({ embeddings: t.embeddings!, logits: t.logits!, labels: t.labels! }, { labelSmoothing: 2 }),
        'teacherObjective.options.labelSmoothing',
      ],
      [
        () => teacherObjective({ embeddings: t.embeddings!, logits: t.logits!, labels: t.labels! }, { kd: 1 } as never),
        'teacherObjective.options.kd',
      ],
      [() => vkdObjective({} as never, { kdWeight: -0.1 }), 'vkdObjective.weights.kdWeight'],
      [() => vkdObjective({} as never, { dpWeight: Infinity }), 'vkdObjective.weights.dpWeight'],
      [() => vkdObjective({} as never, { temperature: 0 }), 'vkdObjective.weights.temperature'],
      [() => vkdObjective({} as never, { logitsDistance: 'l1' as never }), 'vkdObjective.weights.logitsDistance'],
      [() => vkdObjective({} as never, { margin: -1 }), 'vkdObjective.weights.margin'],
      [() => vkdObjective({} as never, { lambda: 1 } as never), 'vkdObjective.weights.lambda'],
      [() => vkdObjective({} as never, 0.1 as never), 'vkdObjective.weights'],
      [() => crossEntropy([[1, 2]] as never, t.labels!), 'crossEntropy.logits'],
    ];
    for (const [fn, option] of cases) {
      const error = thrown(fn) as InvalidOptionError;
      expect(error, option).toBeInstanceOf(InvalidOptionError);
      expect(error.option).toBe(option);
    }
    expect((thrown(cases[0]![0]) as Error).message).toBe(
      'Invalid logitDistillation.options.temperature: -1. Expected a finite number in (0, ∞).',
    );
    expect((thrown(cases[3]![0]) as Error).message).toContain('valid options are: temperature');
  });
});
