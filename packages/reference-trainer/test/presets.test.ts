import { InvalidOptionError, UnknownKeyError } from '@vkd/core';
import { describe, expect, it } from 'vitest';
import { presetNames, presetValues } from '../src/config/presets';
import { dataSettings, distillSettings, modelSettings, teacherSettings } from '../src/config/stage-settings';

// Expected values are transcribed from vkd-method.md §3.2, §3.3, §3.5, §4.4, §4.6 and §8 (the authors' commands.txt).
describe("presets reproduce the authors' runs", () => {
  it('mars-resnet50: teacher P8 K4 N8, 300 epochs, milestones 100/200 at 256×128', () => {
    const teacher = teacherSettings(presetValues('mars-resnet50', 'teacher'));
    expect(teacher).toMatchObject({
      identitiesPerBatch: 8,
      instancesPerIdentity: 4,
      framesPerTracklet: 8,
      epochs: 300,
      milestones: [100, 200],
      learningRate: 1e-4,
      weightDecay: 1e-5,
      gamma: 0.1,
    });
    const common = presetValues('mars-resnet50', 'evaluate');
    expect(common).toMatchObject({
      dataset: 'mars',
      height: 256,
      width: 128,
      backbone: 'resnet50',
      attention: 'none',
      testFrames: 8,
    });
  });

  it('mars-resnet50: student P12 K4 N8 M2, 500 epochs, milestones 300/450, α 0.1, β 1e-4, τ 10', () => {
    const student = distillSettings(presetValues('mars-resnet50', 'distill'));
    expect(student).toMatchObject({
      identitiesPerBatch: 12,
      instancesPerIdentity: 4,
      framesPerTracklet: 8,
      studentFrames: 2,
      epochs: 500,
      milestones: [300, 450],
      learningRate: 1e-4,
      weightDecay: 1e-5,
      kdWeight: 0.1,
      dpWeight: 1e-4,
      temperature: 10,
    });
  });

  it('resnet18 teachers decay every 50 epochs from 50 (MARS and Duke)', () => {
    expect(teacherSettings(presetValues('mars-resnet18', 'teacher')).milestones).toEqual([50, 100, 150, 200, 250]);
    expect(teacherSettings(presetValues('duke-resnet18', 'teacher')).milestones).toEqual([50, 100, 150, 200, 250]);
    expect(teacherSettings(presetValues('duke-resnet34', 'teacher')).milestones).toEqual([100, 200]);
  });

  it('veri: teacher on single images, P18 K4 N1, milestones 200/250, 224×224', () => {
    const values = presetValues('veri-resnet50', 'teacher');
    expect(values).toMatchObject({ dataset: 'veri-776', height: 224, width: 224 });
    expect(teacherSettings(values)).toMatchObject({
      identitiesPerBatch: 18,
      instancesPerIdentity: 4,
      framesPerTracklet: 1,
      milestones: [200, 250],
      epochs: 300,
    });
    expect(distillSettings(presetValues('veri-resnet50', 'distill'))).toMatchObject({
      framesPerTracklet: 8,
      studentFrames: 2,
      identitiesPerBatch: 12,
    });
  });

  it('BAM presets use resnet50 with attention', () => {
    expect(presetValues('mars-resnet50bam', 'teacher')).toMatchObject({ backbone: 'resnet50', attention: 'bam' });
    expect(modelSettings(presetValues('duke-resnet50bam', 'evaluate'))).toEqual({
      backbone: 'resnet50',
      attention: 'bam',
      baseWidth: 64,
    });
  });

  it('every preset yields valid settings for both stages', () => {
    for (const name of presetNames()) {
      expect(() => teacherSettings(presetValues(name, 'teacher')), name).not.toThrow();
      expect(() => distillSettings(presetValues(name, 'distill')), name).not.toThrow();
      expect(() => modelSettings(presetValues(name, 'evaluate')), name).not.toThrow();
    }
  });

  it('rejects an unknown preset, listing the names', () => {
    expect(() => presetValues('mars-resnet51', 'teacher')).toThrow(UnknownKeyError);
    expect(() => presetValues('mars-resnet51', 'teacher')).toThrow(/"mars-resnet50"/);
  });
});

describe('stage settings', () => {
  it("defaults a teacher run to the authors' values for its dataset and backbone", () => {
    expect(teacherSettings({ dataset: 'mars', backbone: 'resnet50' })).toMatchObject({
      epochs: 300,
      milestones: [100, 200],
      identitiesPerBatch: 8,
    });
    expect(teacherSettings({ dataset: 'veri-776', backbone: 'resnet50' })).toMatchObject({
      framesPerTracklet: 1,
      identitiesPerBatch: 18,
    });
  });

  it('drops default milestones past a shortened run and keeps explicit ones', () => {
    expect(teacherSettings({ dataset: 'mars', backbone: 'resnet50', epochs: 150 }).milestones).toEqual([100]);
    expect(
      teacherSettings({ dataset: 'mars', backbone: 'resnet50', epochs: 20, milestones: [5, 10] }).milestones,
    ).toEqual([5, 10]);
  });

  it('rejects inconsistent settings, naming the option', () => {
    expect(() => teacherSettings({ epochs: 20, milestones: [10, 5] })).toThrow(
      /Invalid --milestones.*strictly increasing/,
    );
    expect(() => teacherSettings({ epochs: 20, milestones: [30] })).toThrow(
      /Milestone 30 is not before the last epoch \(--epochs 20\)/,
    );
    expect(() => distillSettings({ framesPerTracklet: 4, studentFrames: 6 })).toThrow(
      /Invalid --student-frames: 6.*use at most 4/,
    );
    expect(() => modelSettings({ backbone: 'resnet18', attention: 'bam', baseWidth: 64 })).toThrow(InvalidOptionError);
    expect(() => dataSettings({ root: '/data' })).toThrow(/--dataset is required/);
    expect(() => dataSettings({ dataset: 'mars' })).toThrow(/--root is required/);
  });
});
