import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  RANKED_COLOURS,
  RANKED_LAYOUT,
  rankedCellOrigin,
  writeRankedGrid,
  type RankedRow,
} from '../src/report/ranked-grid';

let directory: string;
const frame = (name: string) => join(directory, `${name}.png`);

/** A solid-colour frame, 32×16, so the picture's cells can be told apart by colour. */
async function writeFrame(name: string, rgb: [number, number, number]) {
  await sharp({ create: { width: 16, height: 32, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } })
    .png()
    .toFile(frame(name));
}

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'vkd-ranked-'));
  await writeFrame('query-a', [200, 200, 40]);
  await writeFrame('query-b', [40, 200, 200]);
  await writeFrame('blue', [30, 30, 220]);
  await writeFrame('black', [10, 10, 10]);
});

describe('writeRankedGrid', () => {
  it('draws each query, then its ranked gallery frames with green/red borders and distances', async () => {
    // A hand-built ranking: query A's ranks 1 and 3 are its identity, query B's rank 2 only.
    const rows: RankedRow[] = [
      {
        queryFrames: [frame('query-a')],
        label: 'q0 id 1',
        results: [
          { frame: frame('blue'), distance: 0.1, correct: true },
          { frame: frame('black'), distance: 0.2, correct: false },
          { frame: frame('blue'), distance: 0.3, correct: true },
        ],
      },
      {
        queryFrames: [frame('query-b')],
        label: 'q1 id 2',
        results: [
          { frame: frame('black'), distance: 0.15, correct: false },
          { frame: frame('blue'), distance: 0.25, correct: true },
          { frame: frame('black'), distance: 0.35, correct: false },
        ],
      },
    ];
    const path = join(directory, 'ranked.png');
    const size = await writeRankedGrid(rows, path);
    const { data, info } = await sharp(path).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([size.width, size.height]);
    const pixel = (x: number, y: number) =>
      Array.from(data.subarray((y * info.width + x) * info.channels, (y * info.width + x) * info.channels + 3));
    const layout = RANKED_LAYOUT;
    const expected = [
      [RANKED_COLOURS.query, RANKED_COLOURS.correct, RANKED_COLOURS.wrong, RANKED_COLOURS.correct],
      [RANKED_COLOURS.query, RANKED_COLOURS.wrong, RANKED_COLOURS.correct, RANKED_COLOURS.wrong],
    ];
    const inside = [
      [
        [200, 200, 40],
        [30, 30, 220],
        [10, 10, 10],
        [30, 30, 220],
      ],
      [
        [40, 200, 200],
        [10, 10, 10],
        [30, 30, 220],
        [10, 10, 10],
      ],
    ];
    for (const [row, colours] of expected.entries()) {
      for (const [column, colour] of colours.entries()) {
        const { x, y } = rankedCellOrigin(layout, 1, row, column);
        // The border: the cell's top-left corner, the middle of its left edge and of its bottom edge.
        expect(pixel(x + 1, y + 1), `row ${row} column ${column} corner`).toEqual([...colour]);
        expect(pixel(x + 1, y + layout.cellHeight / 2), `row ${row} column ${column} left edge`).toEqual([...colour]);
        expect(
          pixel(x + layout.cellWidth / 2, y + layout.cellHeight + 2 * layout.border - 2),
          `row ${row} column ${column} bottom edge`,
        ).toEqual([...colour]);
        // The frame inside the border, scaled to the cell.
        const centre = pixel(x + layout.border + layout.cellWidth / 2, y + layout.border + layout.cellHeight / 2);
        centre.forEach((value, channel) =>
          expect(
            Math.abs(value - (inside[row]![column]![channel] as number)),
            `row ${row} column ${column} centre`,
          ).toBeLessThanOrEqual(2),
        );
      }
    }
    // The distance text under a result cell leaves dark pixels in its text line; the gap between queries and results is white.
    const { x, y } = rankedCellOrigin(layout, 1, 0, 1);
    let dark = 0;
    for (let dx = 0; dx < layout.cellWidth; dx++) {
      for (let dy = 2; dy < layout.textHeight; dy++)
        if ((pixel(x + dx, y + layout.cellHeight + 2 * layout.border + dy)[0] as number) < 128) dark++;
    }
    expect(dark).toBeGreaterThan(10);
    const query = rankedCellOrigin(layout, 1, 0, 0);
    expect(pixel(query.x + layout.cellWidth + 2 * layout.border + 3, query.y + 20)).toEqual([255, 255, 255]);
  });

  it('refuses an empty ranking', async () => {
    await expect(writeRankedGrid([], join(directory, 'none.png'))).rejects.toThrow(/no query to draw/);
  });
});
