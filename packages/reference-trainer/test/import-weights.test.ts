import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { createReidModel, entryToFloat32, loadReidModel, parseSafetensors } from '@vkd/models';
import { scaledDifference, useBackend } from '@vkd/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { vkd } from './support/vkd';

/** A minimal safetensors writer (F32 only), independent of the models package. */
function safetensors(tensors: Record<string, { shape: number[]; data: Float32Array }>): Uint8Array {
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const [name, { shape, data }] of Object.entries(tensors)) {
    header[name] = { dtype: 'F32', shape, data_offsets: [offset, offset + data.byteLength] };
    offset += data.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const bytes = new Uint8Array(8 + json.length + offset);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(json.length), true);
  bytes.set(new TextEncoder().encode(json), 8);
  let position = 8 + json.length;
  for (const { data } of Object.values(tensors)) {
    bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), position);
    position += data.byteLength;
  }
  return bytes;
}

beforeAll(async () => {
  await useBackend('cpu');
});

describe('vkd import-weights', () => {
  it('converts a PyTorch-layout VKD checkpoint into a model directory with the same weights', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'vkd-import-'));
    const source = createReidModel({ backbone: 'resnet18', numIdentities: 3, baseWidth: 4, seed: 5 });
    const weights = source.getWeights();
    // Back to PyTorch layout: conv HWIO → OIHW, linear [in, out] → [out, in].
    const torchLayout: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (const [name, tensor] of Object.entries(weights)) {
      const converted =
        tensor.rank === 4
          ? tf.transpose(tensor, [3, 2, 0, 1])
          : tensor.rank === 2
            ? tf.transpose(tensor)
            : tf.clone(tensor);
      torchLayout[name] = { shape: converted.shape, data: (await converted.data()) as Float32Array };
      converted.dispose();
    }
    await writeFile(join(directory, 'chk_end.safetensors'), safetensors(torchLayout));
    const { code, stdout, stderr } = await importWeights(
      [
        ...['--source', 'chk_end.safetensors', '--format', 'vkd', '--backbone', 'resnet18', '--base-width', '4'],
        ...['--num-identities', '3', '--out', 'model'],
      ],
      directory,
    );
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/loaded\s+\d+/);
    expect(stdout).toMatch(/missing\s+0/);
    const imported = await loadReidModel(join(directory, 'model'));
    const importedWeights = imported.getWeights();
    for (const [name, tensor] of Object.entries(weights)) {
      const other = importedWeights[name];
      expect(other, name).toBeDefined();
      expect(Array.from(await (other as tf.Tensor).data()), name).toEqual(Array.from(await tensor.data()));
    }
    tf.dispose([...Object.values(weights), ...Object.values(importedWeights)]);
    imported.dispose();
    source.dispose();
  });
});

const TORCH_FILES = join(dirname(fileURLToPath(import.meta.url)), '../../../tools/fixtures/torch-files');

/** Runs `vkd import-weights --device cpu ARGS` in `cwd`. */
const importWeights = (args: string[], cwd: string) => vkd(['import-weights', '--device', 'cpu', ...args], cwd);

describe("vkd import-weights: PyTorch files and the authors' run folders (tools/fixtures/torch-files)", () => {
  it('--source RUN_DIR needs nothing else: backbone, identities from hparams.json, width from chk/chk_end; outputs match PyTorch', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'vkd-import-run-'));
    const run = join(TORCH_FILES, 'runs', 'base_mars_resnet50bam');
    const { code, stdout, stderr } = await importWeights(['--source', run, '--out', 'teacher'], directory);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(
      /backbone_type resnet50bam → --backbone resnet50 --attention bam, 7 identities .*base width 4 .*checkpoint chk\/chk_end/,
    );
    expect(stdout).toMatch(/missing\s+0/);
    const model = await loadReidModel(join(directory, 'teacher'));
    expect(model.config).toMatchObject({ backbone: 'resnet50', attention: 'bam', numIdentities: 7, baseWidth: 4 });
    const { entries } = parseSafetensors(new Uint8Array(await readFile(join(run, 'expected.safetensors'))));
    const input = tf.tensor(entryToFloat32(entries.input!), entries.input!.shape);
    const { embeddings, logits } = model.forward(input, { training: false });
    expect(
      scaledDifference((await embeddings.data()) as Float32Array, entryToFloat32(entries['chk_end.embeddings']!)),
    ).toBeLessThan(1e-4);
    expect(
      scaledDifference((await logits.data()) as Float32Array, entryToFloat32(entries['chk_end.logits']!)),
    ).toBeLessThan(1e-4);
    tf.dispose([input, embeddings, logits]);
    model.dispose();
  });

  it('--checkpoint chooses another chk/ file; contradicting options and --checkpoint with a file are refused', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'vkd-import-run-'));
    const run = join(TORCH_FILES, 'runs', 'base_mars_resnet18');
    const student = await importWeights(['--source', run, '--checkpoint', 'chk_di_1', '--out', 'student'], directory);
    expect(student.stderr).toBe('');
    expect(student.stdout).toMatch(/checkpoint chk\/chk_di_1/);
    const contradicting = await importWeights(
      ['--source', run, '--num-identities', '625', '--out', 'other'],
      directory,
    );
    expect(contradicting.code).toBe(2);
    expect(contradicting.stderr).toMatch(/--num-identities.*625.*run folder gives 7 .*hparams\.json/);
    const fileWithCheckpoint = await importWeights(
      ['--source', join(run, 'chk', 'chk_end'), '--checkpoint', 'chk_di_1', '--backbone', 'resnet18', '--out', 'x'],
      directory,
    );
    expect(fileWithCheckpoint.code).toBe(2);
    expect(fileWithCheckpoint.stderr).toMatch(/--checkpoint.*Only for a run folder/);
  });

  it('a folder without params/hparams.json is refused, naming it and the way out', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'vkd-import-run-'));
    const { code, stderr } = await importWeights(['--source', '.', '--out', 'model'], directory);
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/has no params\/hparams\.json/);
  });

  it("the library's advice (allowMissing: true) is worded as the flag (--allow-missing) by the CLI", async () => {
    const directory = await mkdtemp(join(tmpdir(), 'vkd-import-run-'));
    const source = join(TORCH_FILES, 'torchvision', 'resnet18-w4.pth');
    const args = ['--source', source, '--format', 'vkd', '--backbone', 'resnet18', '--base-width', '4', '--out', 'm'];
    const { code, stderr } = await importWeights(args, directory);
    expect(code).toBe(1);
    expect(stderr).toMatch(
      /model weight\(s\) missing from this vkd file: .*Pass --allow-missing to keep their current values/,
    );
    expect(stderr).not.toMatch(/allowMissing/);
  });

  it('a torch.save .pth of torchvision names imports with --format torchvision', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'vkd-import-run-'));
    const source = join(TORCH_FILES, 'torchvision', 'resnet18-w4.pth');
    const { code, stdout, stderr } = await importWeights(
      [
        '--source',
        source,
        '--format',
        'torchvision',
        '--backbone',
        'resnet18',
        '--base-width',
        '4',
        '--out',
        'imagenet',
      ],
      directory,
    );
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/missing\s+0\n/);
    expect(stdout).toMatch(/untouched\s+5: classifier\.bottleneck\.weight/);
  });
});
