import * as tf from '@tensorflow/tfjs-core';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointError, FileFormatError } from '@vkd/core';
import { expectNoLeak, scaledDifference, useBackend } from '@vkd/testing';
import {
  createReidModel,
  entryToFloat32,
  importAuthorsRun,
  importTorchWeights,
  parseSafetensors,
  rankBackbones,
  readWeightsFile,
  resolveAuthorsBackbone,
  validateReidModelOptions,
  type ReidModel,
  type SafetensorsEntry,
} from '@vkd/models';
import { TORCH_FILES_ROOT } from './torch-fixtures';

/** max|ours − PyTorch float64| / max|PyTorch float64|, as the parity tests. */
const TOLERANCE = 1e-4;
const RUNS = join(TORCH_FILES_ROOT, 'runs');

async function expectedOf(path: string): Promise<Record<string, SafetensorsEntry>> {
  return parseSafetensors(new Uint8Array(await readFile(path)), path).entries;
}

async function expectEvalParity(
  model: ReidModel,
  expected: Record<string, SafetensorsEntry>,
  prefix: string,
  logits = true,
): Promise<void> {
  const input = expected.input as SafetensorsEntry;
  const x = tf.tensor(entryToFloat32(input), input.shape);
  const outputs = model.forward(x, { training: false });
  const checks: Array<[string, tf.Tensor]> = [[`${prefix}embeddings`, outputs.embeddings]];
  if (logits) checks.push([`${prefix}logits`, outputs.logits]);
  for (const [key, tensor] of checks) {
    const reference = expected[key] as SafetensorsEntry;
    expect(tensor.shape, key).toEqual(reference.shape);
    const difference = scaledDifference((await tensor.data()) as Float32Array, entryToFloat32(reference));
    expect(difference, `${key}: relative ${difference.toExponential(2)}`).toBeLessThan(TOLERANCE);
  }
  tf.dispose([x, outputs.embeddings, outputs.logits]);
}

describe("the VKD authors' run folders and torch.save files (tools/fixtures/torch-files)", () => {
  let scratch: string;
  beforeAll(async () => {
    await useBackend('cpu');
    scratch = await mkdtemp(join(tmpdir(), 'vkd-authors-run-'));
  });
  afterAll(() => rm(scratch, { recursive: true, force: true }));

  it.each([
    ['base_mars_resnet18', 'chk_end', 'resnet18', 'none', 4],
    ['base_mars_resnet18', 'chk_di_1', 'resnet18', 'none', 4],
    ['base_mars_resnet50bam', 'chk_end', 'resnet50', 'bam', 4],
    ['base_mars_densenet121', 'chk_end', 'densenet121', 'none', 8],
    ['base_mars_mobilenet', 'chk_end', 'mobilenet', 'none', 16],
  ] as const)(
    '%s/chk/%s: model from hparams.json, eval outputs match PyTorch',
    async (folder, checkpoint, backbone, attention, baseWidth = 4) => {
      const { model, report, run } = await importAuthorsRun(join(RUNS, folder), { checkpoint });
      expect(run.backboneType).toBe(attention === 'bam' ? `${backbone}bam` : backbone);
      expect(model.config).toMatchObject({ backbone, attention, numIdentities: 7, baseWidth });
      expect([...report.missing, ...report.unexpected, ...report.untouched]).toEqual([]);
      expect(report.source).toBe(join(RUNS, folder, 'chk', checkpoint));
      await expectEvalParity(model, await expectedOf(join(RUNS, folder, 'expected.safetensors')), `${checkpoint}.`);
      model.dispose();
    },
  );

  it('importAuthorsRun leaves no tensor behind once its model is disposed, and chk_end is the default', async () => {
    await expectNoLeak(async () => {
      const { model, run } = await importAuthorsRun(join(RUNS, 'base_mars_resnet18'));
      expect(run.checkpoint).toBe('chk_end');
      model.dispose();
    });
  });

  it('a torchvision-named torch.save file imports with format "torchvision": backbone embeddings match PyTorch', async () => {
    const path = join(TORCH_FILES_ROOT, 'torchvision', 'resnet18-w4.pth');
    const model = createReidModel({ backbone: 'resnet18', numIdentities: 7, baseWidth: 4 });
    const report = await importTorchWeights(model, path, { format: 'torchvision' });
    expect(report.ignored).toEqual(expect.arrayContaining(['fc.weight', 'fc.bias']));
    expect(report.missing).toEqual([]);
    await expectEvalParity(model, await expectedOf(`${path}.expected.safetensors`), 'eval.', false);
    model.dispose();
  });

  it('refuses a run folder without params/hparams.json, naming the folder and the way out', async () => {
    const folder = join(scratch, 'no-hparams');
    await cp(join(RUNS, 'base_mars_resnet18', 'chk'), join(folder, 'chk'), { recursive: true });
    const error = (await importAuthorsRun(folder).catch((reason: unknown) => reason)) as CheckpointError;
    expect(error).toBeInstanceOf(CheckpointError);
    expect(error.message).toContain(folder);
    expect(error.message).toMatch(
      /has no params\/hparams\.json.*--source .*chk_end --backbone NAME --num-identities N/s,
    );
  });

  it('names the checkpoints chk/ holds when --checkpoint names none of them', async () => {
    const error = (await importAuthorsRun(join(RUNS, 'base_mars_resnet18'), { checkpoint: 'chk_di_9' }).catch(
      (reason: unknown) => reason,
    )) as Error;
    expect(error).toBeInstanceOf(CheckpointError);
    expect(error.message).toMatch(/chk_di_9: no such checkpoint.*chk\/ holds: chk_di_1, chk_end/);
  });

  it('refuses an hparams.json naming an unknown backbone or lacking num_classes, naming the file and the key', async () => {
    const folder = join(scratch, 'bad-hparams');
    await cp(join(RUNS, 'base_mars_resnet18'), folder, { recursive: true });
    const hparams = join(folder, 'params', 'hparams.json');
    await writeFile(hparams, JSON.stringify({ backbone_type: 'vgg16', num_classes: 7 }));
    await expect(importAuthorsRun(folder)).rejects.toThrow(FileFormatError);
    await expect(importAuthorsRun(folder)).rejects.toThrow(
      /hparams\.json: "backbone_type": Unknown backbone "vgg16".*"resnet50bam"/,
    );
    await writeFile(hparams, JSON.stringify({ backbone_type: 'resnet18' }));
    await expect(importAuthorsRun(folder)).rejects.toThrow(/"num_classes" is undefined/);
    await writeFile(hparams, '{ not json');
    await expect(importAuthorsRun(folder)).rejects.toThrow(/hparams\.json: not valid JSON/);
  });

  it("the authors' backbone names: registered names as they are, <backbone><attention> for attention nets", () => {
    expect(resolveAuthorsBackbone('resnet50')).toEqual({ backbone: 'resnet50', attention: 'none' });
    expect(resolveAuthorsBackbone('resnet101bam')).toEqual({ backbone: 'resnet101', attention: 'bam' });
    expect(() => resolveAuthorsBackbone('resnet18bam')).toThrow(/Unknown backbone "resnet18bam"/);
  });

  it('a checkpoint of another backbone: the error names the closest registered backbone', async () => {
    const path = join(RUNS, 'base_mars_resnet50bam', 'chk', 'chk_end');
    const model = createReidModel({ backbone: 'resnet50', numIdentities: 7, baseWidth: 4 });
    await expect(importTorchWeights(model, path)).rejects.toThrow(
      /match no weight.*Closest registered backbone: resnet50 \+ bam \(baseWidth 4\), (\d+) of \1 keys fit/s,
    );
    const narrow = createReidModel({ backbone: 'resnet18', numIdentities: 7, baseWidth: 4 });
    await expect(importTorchWeights(narrow, path)).rejects.toThrow(
      /has shape .*Closest registered backbone: resnet50 \+ bam \(baseWidth 4\)/s,
    );
    const features = join(TORCH_FILES_ROOT, 'reader', 'features-zip.pth');
    await expect(importTorchWeights(narrow, features)).rejects.toThrow(
      /features-zip\.pth: .*No registered backbone fits these keys/s,
    );
    const { entries } = readWeightsFile(new Uint8Array(await readFile(path)), path);
    const ranking = rankBackbones(entries, 'vkd', validateReidModelOptions({ backbone: 'resnet18', numIdentities: 7 }));
    expect(ranking[0]).toMatchObject({ backbone: 'resnet50', attention: 'bam', baseWidth: 4 });
    expect(ranking[0]!.matched).toBe(ranking[0]!.keys);
    expect(ranking[1]!.matched).toBeLessThan(ranking[1]!.keys);
    model.dispose();
    narrow.dispose();
  });

  it('a .pth holding a NaN weight is refused, naming the file and the tensor', async () => {
    const bytes = new Uint8Array(await readFile(join(RUNS, 'base_mars_resnet18', 'chk', 'chk_di_1')));
    const key = 'backbone.features_layers.0.1.running_var';
    const entry = readWeightsFile(bytes, 'chk_di_1').entries[key]!;
    expect(entry.data.buffer).toBe(bytes.buffer); // a stored zip member: the entry is a view of the file bytes
    new DataView(entry.data.buffer, entry.data.byteOffset).setFloat32(4, Number.NaN, true);
    const path = join(scratch, 'chk_nan');
    await writeFile(path, bytes);
    const model = createReidModel({ backbone: 'resnet18', numIdentities: 7, baseWidth: 4 });
    await expect(importTorchWeights(model, path)).rejects.toThrow(`Checkpoint ${path}: "${key}" holds NaN (element 1`);
    model.dispose();
  });
});
