import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CheckpointError, UnsafePickleError, VkdError } from '@vkd/core';
import { entryToFloat32, entryToInt32, readWeightsFile, type SafetensorsEntry } from '@vkd/models';
import { TORCH_FILES_ROOT } from './torch-fixtures';

const READER = join(TORCH_FILES_ROOT, 'reader');

interface ExpectedTensor {
  dtype: string;
  shape: number[];
  values: number[];
}

async function bytesOf(name: string): Promise<Uint8Array> {
  return new Uint8Array(await readFile(join(READER, name)));
}

function thrownBy(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

function expectEntries(entries: Record<string, SafetensorsEntry>, expected: Record<string, ExpectedTensor>): void {
  expect(Object.keys(entries)).toEqual(Object.keys(expected));
  for (const [key, want] of Object.entries(expected)) {
    const entry = entries[key] as SafetensorsEntry;
    expect(entry.dtype, key).toBe(want.dtype);
    expect(entry.shape, key).toEqual(want.shape);
    // F16/BF16 values are exact in float32; F64 values are compared after rounding to float32.
    const values = entry.dtype === 'I64' ? Array.from(entryToInt32(entry)) : Array.from(entryToFloat32(entry));
    expect(values, key).toEqual(want.values.map((value) => (entry.dtype === 'I64' ? value : Math.fround(value))));
  }
}

describe('torch.save files (written by Debian python3-torch 1.13, tools/fixtures/torch-files)', async () => {
  const expected = JSON.parse(await readFile(join(READER, 'expected.json'), 'utf8')) as {
    features: Record<string, ExpectedTensor>;
  };

  it.each([
    ['features-zip.pth', 'torch-zip'],
    ['features-legacy.pth', 'torch-legacy'],
    ['features-protocol4-zip.pth', 'torch-zip'],
    ['features-protocol5-legacy.pth', 'torch-legacy'],
    ['wrapped-state_dict-zip.pth', 'torch-zip'],
    ['wrapped-model-legacy.pt', 'torch-legacy'],
    ['wrapped-net-zip', 'torch-zip'],
  ])('%s: every dtype, shared and strided storages, parameters, wrapping dicts', async (name, format) => {
    const { format: detected, entries } = readWeightsFile(await bytesOf(name), name);
    expect(detected).toBe(format);
    expectEntries(entries, expected.features);
  });

  it.each(['unsafe-os-system-zip.pth', 'unsafe-os-system-legacy.pth'])(
    '%s: refuses a pickle that calls os.system, naming it',
    async (name) => {
      const bytes = await bytesOf(name);
      const error = thrownBy(() => readWeightsFile(bytes, name)) as UnsafePickleError;
      expect(error).toBeInstanceOf(UnsafePickleError);
      expect(error).toBeInstanceOf(CheckpointError);
      expect(error.global).toBe('posix.system');
      expect(error.message).toContain(name);
      expect(error.message).toContain('"posix.system"');
    },
  );

  it('refuses a pickled nn.Module (torch.save(model)), naming its class and advising a state_dict', async () => {
    const bytes = await bytesOf('pickled-module-zip.pth');
    const error = thrownBy(() => readWeightsFile(bytes, 'pickled-module-zip.pth')) as UnsafePickleError;
    expect(error).toBeInstanceOf(UnsafePickleError);
    expect(error.global).toBe('torch.nn.modules.linear.Linear');
    expect(error.message).toMatch(/model\.state_dict\(\)/);
  });

  it('names an unsupported storage type (e.g. a float8 storage of newer torch) instead of calling it unsafe', async () => {
    const bytes = await bytesOf('features-zip.pth');
    const text = new TextDecoder('latin1').decode(bytes);
    const at = text.indexOf('HalfStorage');
    expect(at).toBeGreaterThan(0);
    bytes.set(new TextEncoder().encode('XalfStorage'), at); // same length: the stored zip member stays readable
    const error = thrownBy(() => readWeightsFile(bytes, 'patched.pth'));
    expect(error).toBeInstanceOf(CheckpointError);
    expect(error).not.toBeInstanceOf(UnsafePickleError);
    expect(error.message).toMatch(
      /patched\.pth: storage type torch\.XalfStorage is not supported; supported: torch\.FloatStorage/,
    );
  });

  it('refuses a zip without data.pkl, listing its members', async () => {
    const bytes = await bytesOf('no-data-pkl.zip');
    const error = thrownBy(() => readWeightsFile(bytes, 'no-data-pkl.zip')) as CheckpointError;
    expect(error).toBeInstanceOf(CheckpointError);
    expect(error.path).toBe('no-data-pkl.zip');
    expect(error.message).toMatch(/no <folder>\/data\.pkl.*members: archive\/version, archive\/data\/0/);
  });

  it('refuses a file that holds no state_dict, listing its top-level keys', async () => {
    const bytes = await bytesOf('no-state-dict-zip.pth');
    const error = thrownBy(() => readWeightsFile(bytes, 'no-state-dict-zip.pth')) as CheckpointError;
    expect(error).toBeInstanceOf(CheckpointError);
    expect(error.message).toMatch(
      /no state_dict found: its top-level keys are: epoch, weights\..*"state_dict", "model", "net"/,
    );
  });

  it.each(['features-zip.pth', 'features-legacy.pth'])(
    '%s truncated anywhere: a CheckpointError naming the file, never a crash',
    async (name) => {
      const bytes = await bytesOf(name);
      const cuts = [
        1,
        10,
        16,
        40,
        Math.floor(bytes.length / 3),
        Math.floor(bytes.length / 2),
        bytes.length - 30,
        bytes.length - 1,
      ];
      for (const cut of cuts) {
        const error = thrownBy(() => readWeightsFile(bytes.subarray(0, cut), `cut-${cut}.pth`));
        expect(error, `cut at ${cut}`).toBeInstanceOf(CheckpointError);
        expect(error.message, `cut at ${cut}`).toContain(`cut-${cut}.pth`);
      }
      // Only the zip's tail (end-of-central-directory record) reveals a cut zip; the legacy stream says "truncated".
      const tail = thrownBy(() => readWeightsFile(bytes.subarray(0, bytes.length - 1), name));
      expect(tail.message).toMatch(name.includes('zip') ? /truncated or not a complete zip/ : /truncated file/);
    },
  );

  it.each(['features-zip.pth', 'features-legacy.pth'])(
    '%s with random bytes overwritten: a typed error or a result, never a crash',
    async (name) => {
      const original = await bytesOf(name);
      let state = 12345;
      const random = () => {
        state = (state * 1103515245 + 12345) % 2147483648;
        return state / 2147483648;
      };
      for (let trial = 0; trial < 300; trial++) {
        const bytes = original.slice();
        for (let flip = 0; flip < 1 + Math.floor(random() * 4); flip++)
          bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
        try {
          readWeightsFile(bytes, name);
        } catch (error) {
          expect(error, `trial ${trial}: ${(error as Error).message}`).toBeInstanceOf(VkdError);
        }
      }
    },
  );
});
