import type * as tf from '@tensorflow/tfjs-core';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CheckpointError, InvalidOptionError } from '@vkd/core';
import { expectNoLeak, useBackend } from '@vkd/testing';
import { createReidModel, encodeSafetensors, importTorchWeights, parseSafetensors, type ReidModel } from '@vkd/models';
import { FIXTURE_ROOT, loadTorchFixture, type TorchFixture } from './torch-fixtures';

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

describe('importTorchWeights', () => {
  let fixture: TorchFixture;
  let vkdBytes: Uint8Array;
  beforeAll(async () => {
    await useBackend('cpu');
    fixture = await loadTorchFixture('resnet18-w8');
    vkdBytes = new Uint8Array(await readFile(fixture.weightsPath));
  });

  it('loads a VKD checkpoint (auto-detected) from bytes without leaking, skipping num_batches_tracked', async () => {
    const model = createReidModel(fixture.options);
    const report = await expectNoLeak(() => importTorchWeights(model, vkdBytes));
    expect(report.format).toBe('vkd');
    expect(report.loaded.length).toBe(model.weightSpecs().length);
    expect(report.ignored.length).toBeGreaterThan(0);
    expect(report.ignored.every((key) => key.endsWith('num_batches_tracked'))).toBe(true);
    expect([...report.missing, ...report.unexpected, ...report.untouched]).toEqual([]);
    // OIHW → HWIO: PyTorch weight[o, i, h, w] lands at [h, w, i, o].
    const torch = parseSafetensors(vkdBytes).entries['backbone.features_layers.0.0.weight']!;
    const torchValues = new Float32Array(torch.data.slice().buffer);
    const [, inChannels, height, width] = torch.shape as [number, number, number, number];
    const ours = (await weightValues(model)).get('backbone.features_layers.0.0.weight')!;
    const [o, i, h, w] = [5, 2, 6, 1];
    expect(ours[((h * width + w) * inChannels + i) * 8 + o]).toBe(
      torchValues[((o * inChannels + i) * height + h) * width + w],
    );
    model.dispose();
  });

  it('loads torchvision names (conv1/bn1/layerN), ignores fc.*, leaves the Re-ID head untouched', async () => {
    const reference = createReidModel(fixture.options);
    await importTorchWeights(reference, fixture.weightsPath);
    const model = createReidModel(fixture.options);
    const headBefore = (await weightValues(model)).get('classifier.classifier.weight');
    const report = await importTorchWeights(model, join(FIXTURE_ROOT, 'resnet18-w8', 'torchvision.safetensors'), {
      format: 'torchvision',
    });
    expect(report.ignored).toEqual(expect.arrayContaining(['fc.weight', 'fc.bias']));
    expect(report.untouched).toEqual([
      'classifier.bottleneck.weight',
      'classifier.bottleneck.bias',
      'classifier.bottleneck.running_mean',
      'classifier.bottleneck.running_var',
      'classifier.classifier.weight',
    ]);
    const [ours, expected] = [await weightValues(model), await weightValues(reference)];
    for (const [name, values] of ours) {
      if (name.startsWith('backbone.')) expect(values, name).toEqual(expected.get(name));
    }
    expect(ours.get('classifier.classifier.weight')).toEqual(headBefore);
    const timm = await importTorchWeights(model, join(FIXTURE_ROOT, 'resnet18-w8', 'torchvision.safetensors'), {
      format: 'timm',
    });
    expect(timm.loaded.length).toBe(report.loaded.length);
    reference.dispose();
    model.dispose();
  });

  it('converts F16 weights and strips a DataParallel "module." prefix', async () => {
    const model = createReidModel({ backbone: 'resnet18', numIdentities: 7, baseWidth: 8 });
    const { entries } = parseSafetensors(vkdBytes);
    const arrays = Object.fromEntries(
      Object.entries(entries).map(([name, entry]) => [`module.${name}`, { ...entry, data: entry.data.slice() }]),
    );
    const half = new Uint16Array(8).fill(0x3c00); // 1.0
    arrays['module.backbone.features_layers.0.1.weight'] = {
      dtype: 'F16',
      shape: [8],
      data: new Uint8Array(half.buffer),
    };
    const report = await importTorchWeights(model, encodeSafetensors(arrays));
    expect(report.loaded.length).toBe(model.weightSpecs().length);
    expect(Array.from((await weightValues(model)).get('backbone.features_layers.0.1.weight')!)).toEqual(
      new Array(8).fill(1),
    );
    model.dispose();
  });

  it('names the identity count when the classifier does not match', async () => {
    const model = createReidModel({ ...fixture.options, numIdentities: 625 });
    await expect(importTorchWeights(model, vkdBytes)).rejects.toThrow(/numIdentities: 7/);
    await expect(importTorchWeights(model, vkdBytes)).rejects.toBeInstanceOf(CheckpointError);
    model.dispose();
  });

  it('reports missing and unexpected keys, throwing unless allowed, and assigns nothing on error', async () => {
    const bam = await loadTorchFixture('resnet50bam-w8');
    const plain = createReidModel({ ...bam.options, attention: 'none' });
    const before = await weightValues(plain);
    await expect(importTorchWeights(plain, bam.weightsPath)).rejects.toThrow(/match no weight.*allowUnexpected/s);
    expect(await weightValues(plain)).toEqual(before);
    const lenient = await importTorchWeights(plain, bam.weightsPath, { allowUnexpected: true });
    expect(lenient.unexpected.length).toBeGreaterThan(0);
    expect(lenient.unexpected.every((key) => key.includes('.bam.'))).toBe(true);

    const plainFixture = await loadTorchFixture('resnet50-w8');
    const withBam = createReidModel(bam.options);
    await expect(importTorchWeights(withBam, plainFixture.weightsPath)).rejects.toThrow(/missing.*allowMissing/s);
    const partial = await importTorchWeights(withBam, plainFixture.weightsPath, {
      allowMissing: true,
      allowUnexpected: true,
    });
    expect(partial.missing.length).toBeGreaterThan(0);
    expect(partial.missing.every((name) => name.includes('.bam.'))).toBe(true);
    plain.dispose();
    withBam.dispose();
  });

  it('rejects unreadable paths, broken zips, unknown formats and options, naming the file', async () => {
    const model = createReidModel(fixture.options);
    await expect(importTorchWeights(model, '/nowhere/chk_end.pth')).rejects.toThrow(
      /\/nowhere\/chk_end.pth: cannot read the file/,
    );
    await expect(importTorchWeights(model, new Uint8Array([0x50, 0x4b, 3, 4, 0, 0, 0, 0, 0]))).rejects.toThrow(
      /<bytes>: no end-of-central-directory.*truncated or not a complete zip/,
    );
    await expect(importTorchWeights(model, '/nowhere/model.safetensors')).rejects.toBeInstanceOf(CheckpointError);
    await expect(importTorchWeights(model, new Uint8Array(12))).rejects.toThrow(
      /unknown weights file format: not a torch.save zip.*not safetensors \(header is not valid UTF-8 JSON/,
    );
    await expect(importTorchWeights(model, vkdBytes, { format: 'keras' as never })).rejects.toBeInstanceOf(
      InvalidOptionError,
    );
    model.dispose();
  });

  it('reads a safetensors file whose header length starts with byte 0x80 (ResNet-50: 28,800 = 0x7080), by structure', async () => {
    const { entries } = parseSafetensors(vkdBytes);
    const arrays = Object.fromEntries(
      Object.entries(entries).map(([name, entry]) => [name, { ...entry, data: entry.data.slice() }]),
    );
    let bytes = encodeSafetensors(arrays);
    const plainLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    // Pad the header through metadata up to 28,800 bytes, the header length of a real ResNet-50 state_dict.
    for (let padding = 28_800 - plainLength - 40; bytes[0] !== 0x80 || bytes[1] !== 0x70; padding++) {
      bytes = encodeSafetensors(arrays, { padding: 'x'.repeat(padding) });
    }
    expect(Number(new DataView(bytes.buffer).getBigUint64(0, true))).toBe(28_800);
    const model = createReidModel(fixture.options);
    const report = await importTorchWeights(model, bytes);
    expect(report.loaded.length).toBe(model.weightSpecs().length);
    model.dispose();
  });

  it('refuses a NaN or infinite weight, naming the tensor and the file', async () => {
    const model = createReidModel(fixture.options);
    const { entries } = parseSafetensors(vkdBytes);
    const arrays = Object.fromEntries(
      Object.entries(entries).map(([name, entry]) => [name, { ...entry, data: entry.data.slice() }]),
    );
    const key = 'backbone.features_layers.1.0.0.bn1.running_var';
    const poisoned = new Float32Array(arrays[key]!.data.buffer);
    poisoned[3] = Number.POSITIVE_INFINITY;
    const before = await weightValues(model);
    await expect(importTorchWeights(model, encodeSafetensors(arrays))).rejects.toThrow(
      new RegExp(`<bytes>: "${key.replaceAll('.', '\\.')}" holds Infinity`),
    );
    poisoned[3] = Number.NaN;
    await expect(importTorchWeights(model, encodeSafetensors(arrays))).rejects.toThrow(/holds NaN .*must be finite/);
    expect(await weightValues(model)).toEqual(before);
    model.dispose();
  });
});
