import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '@vkd/testing';
import { createReidModel, type ReidModel } from '@vkd/models';
import { createStudent } from '../src/index';

async function weightValues(model: ReidModel): Promise<Map<string, Float32Array>> {
  const variables = model.variables();
  return new Map(
    await Promise.all(
      model
        .weightSpecs()
        .map(
          async (spec, index) => [spec.name, (await (variables[index] as tf.Variable).data()) as Float32Array] as const,
        ),
    ),
  );
}

/** Names of the weights whose values differ between two models of the same config. */
async function changedWeights(before: ReidModel, after: ReidModel): Promise<string[]> {
  const [first, second] = [await weightValues(before), await weightValues(after)];
  return [...first]
    .filter(([name, values]) => values.some((value, index) => value !== second.get(name)?.[index]))
    .map(([name]) => name);
}

describe('createStudent follows each backbone’s re-init rule (TriNet.reinit_layers)', () => {
  beforeAll(() => useBackend('cpu'));

  it.each([
    ['resnet18', 'backbone.features_layers.4.0.'],
    ['densenet121', 'backbone.features_layers.10.'],
  ])('%s: the head and %s only come from ImageNet / fresh init', async (backbone, stage) => {
    const teacher = createReidModel({ backbone, numIdentities: 4, baseWidth: 8, seed: 1 });
    const imagenet = createReidModel({ backbone, numIdentities: 4, baseWidth: 8, seed: 2 });
    const imagenetWeights = imagenet.getWeights();
    const student = createStudent(teacher, { lastStage: 'imagenet', imagenetWeights });
    const changed = await changedWeights(teacher, student);
    const backboneChanged = changed.filter((name) => name.startsWith('backbone.'));
    expect(backboneChanged.length).toBeGreaterThan(0);
    expect(backboneChanged.every((name) => name.startsWith(stage))).toBe(true);
    const [studentValues, imagenetValues] = [await weightValues(student), await weightValues(imagenet)];
    for (const name of backboneChanged) expect(studentValues.get(name), name).toEqual(imagenetValues.get(name));
    expect(changed).toContain('classifier.classifier.weight');
    expect(() => createStudent(teacher, { lastStage: 'imagenet' })).toThrow(/needs ImageNet backbone weights/);
    tf.dispose(Object.values(imagenetWeights));
    [teacher, imagenet, student].forEach((model) => model.dispose());
  });

  it('mobilenet: only the head is reset, with or without ImageNet weights, as the authors', async () => {
    const teacher = createReidModel({ backbone: 'mobilenet', numIdentities: 4, baseWidth: 8, seed: 1 });
    expect(teacher.studentReinitPrefixes).toEqual([]);
    for (const options of [{ lastStage: 'imagenet' as const }, { lastStage: 'random' as const }, {}]) {
      const student = createStudent(teacher, options);
      const changed = await changedWeights(teacher, student);
      expect(changed.length).toBeGreaterThan(0);
      expect(
        changed.every((name) => name.startsWith('classifier.')),
        changed.join(', '),
      ).toBe(true);
      student.dispose();
    }
    teacher.dispose();
  });
});
