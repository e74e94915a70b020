import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeImage } from '../src/node';
import { temporaryFolder, writeImage } from './helpers';

// VKD's AdaptiveResize (data/misc.py): r = min(W/w, H/h), Pillow bicubic to ⌊w·r⌋×⌊h·r⌋, zeros around, the odd
// padding pixel on the top / left. Geometry derived by hand for each case.
describe("decodeImage resize 'letterbox'", () => {
  it('keeps the aspect ratio and pads with black, centred, the odd pixel on top', async () => {
    const folder = await temporaryFolder();
    const path = join(folder, 'wide.png');
    // 22 high × 40 wide into 32×32: r = min(32/40, 32/22) = 0.8 → 17 × 32 inside, padding 15 rows = 8 on top, 7 below.
    await writeImage(path, [200, 100, 50], [22, 40]);
    const { data, height, width } = await decodeImage(path, { height: 32, width: 32, resize: 'letterbox' });
    expect([height, width]).toEqual([32, 32]);
    const row = (r: number) => Array.from(data.subarray(r * 32 * 3, (r + 1) * 32 * 3));
    for (const r of [0, 7, 25, 31])
      expect(
        row(r).every((value) => value === 0),
        `row ${r}`,
      ).toBe(true);
    for (const r of [8, 16, 24]) {
      for (let column = 0; column < 32; column++)
        expect(row(r).slice(column * 3, column * 3 + 3), `row ${r} column ${column}`).toEqual([200, 100, 50]);
    }
  });

  it('pads columns for a tall image (10 wide × 40 high into 32×16: r = 0.8 → 32 × 8, 4 columns each side)', async () => {
    const folder = await temporaryFolder();
    const path = join(folder, 'tall.png');
    await writeImage(path, [10, 20, 30], [40, 10]);
    const { data } = await decodeImage(path, { height: 32, width: 16, resize: 'letterbox' });
    const pixel = (r: number, c: number) => Array.from(data.subarray((r * 16 + c) * 3, (r * 16 + c) * 3 + 3));
    for (const c of [0, 3, 12, 15]) expect(pixel(10, c), `column ${c}`).toEqual([0, 0, 0]);
    for (const c of [4, 8, 11]) expect(pixel(10, c), `column ${c}`).toEqual([10, 20, 30]);
    await expect(decodeImage(path, { height: 32, width: 16, resize: 'fit' as never })).rejects.toThrow(
      /Use "pillow", "sharp" or "letterbox"/,
    );
  });
});
