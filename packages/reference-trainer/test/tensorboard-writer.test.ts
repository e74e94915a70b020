import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { crc32c, maskedCrc32c } from '../src/tensorboard/crc32c';
import { createTensorBoardWriter } from '../src/tensorboard/tensorboard-writer';
import { readTensorBoardEvents } from './read-tensorboard-events';

describe('TensorBoard event files', () => {
  it('CRC-32C matches the published check value and TFRecord masking', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283); // RFC 3720 / iSCSI check value
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa); // RFC 3720 B.4: 32 bytes of zeros
    const crc = crc32c(new Uint8Array(0));
    expect(crc).toBe(0);
    expect(maskedCrc32c(new Uint8Array(0))).toBe(0xa282ead8);
  });

  it('writes the version record then one scalar event per call, read back by an independent decoder', async () => {
    const directory = join(await mkdtemp(join(tmpdir(), 'vkd-tb-')), 'teacher');
    let clock = 1_700_000_000.25;
    const writer = createTensorBoardWriter(directory, () => clock);
    writer.scalar('loss/total', 2.5, 1);
    clock += 1;
    writer.scalar('eval/i2v.mAP', 0.4375, 300_000); // a step needing a 3-byte varint
    writer.scalar('loss/kd', Number.NaN, 2);
    expect((await readdir(directory))[0]).toMatch(/^events\.out\.tfevents\.1700000000\./);
    const events = readTensorBoardEvents(writer.path);
    expect(events[0]).toEqual({ wallTime: 1_700_000_000.25, step: 0, fileVersion: 'brain.Event:2', scalars: [] });
    expect(events[1]).toEqual({ wallTime: 1_700_000_000.25, step: 1, scalars: [{ tag: 'loss/total', value: 2.5 }] });
    expect(events[2]).toEqual({
      wallTime: 1_700_000_001.25,
      step: 300_000,
      scalars: [{ tag: 'eval/i2v.mAP', value: 0.4375 }],
    });
    expect(events[3]?.scalars[0]?.tag).toBe('loss/kd');
    expect(events[3]?.scalars[0]?.value).toBeNaN();
    expect(events.length).toBe(4);
  });
});
