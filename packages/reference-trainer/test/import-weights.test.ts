import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { createReidModel, loadReidModel } from '@vkd/models';
import { useBackend } from '@vkd/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../src/cli/commands';
import { runCli } from '../src/cli/run-cli';

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
      const converted = tensor.rank === 4 ? tf.transpose(tensor, [3, 2, 0, 1]) : tensor.rank === 2 ? tf.transpose(tensor) : tf.clone(tensor);
      torchLayout[name] = { shape: converted.shape, data: (await converted.data()) as Float32Array };
      converted.dispose();
    }
    await writeFile(join(directory, 'chk_end.safetensors'), safetensors(torchLayout));
    let stdout = '';
    let stderr = '';
    const code = await runCli(
      ['import-weights', '--device', 'cpu', '--source', 'chk_end.safetensors', '--format', 'vkd', '--backbone', 'resnet18', '--base-width', '4', '--num-identities', '3', '--out', 'model'],
      { stdout: { write: (text: string) => (stdout += text) }, stderr: { write: (text: string) => (stderr += text) }, env: { CI: 'true' }, cwd: directory },
      COMMANDS,
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
