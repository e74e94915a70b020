import { writeFile } from 'node:fs/promises';
import sharp, { type OverlayOptions } from 'sharp';
import { InvalidOptionError } from '@vkd/core';

/**
 * One ranked gallery item: its first frame, its distance to the query, whether it is the query's identity
 * (undefined when the query's identity is not known, e.g. `vkd search` on new images: drawn with the query's grey).
 */
export interface RankedItem {
  readonly frame: string;
  readonly distance: number;
  readonly correct: boolean | undefined;
}

/** One row of the picture: the query's frame(s) and its top-ranked gallery items. */
export interface RankedRow {
  /** Frames shown for the query (I2V: its first frame; V2V: a few of its frames). */
  readonly queryFrames: readonly string[];
  /** Under the query, e.g. `q3 id 12 C2 AP 0.41`. */
  readonly label: string;
  readonly results: readonly RankedItem[];
}

/** Border colours (RGB): query, correct match, wrong match. */
export const RANKED_COLOURS = {
  query: [128, 128, 128],
  correct: [0, 170, 0],
  wrong: [220, 0, 0],
} as const;

/** Sizes of the grid in pixels. */
export interface RankedGridLayout {
  readonly cellWidth: number;
  readonly cellHeight: number;
  readonly border: number;
  readonly margin: number;
  /** Height of the text line under each cell. */
  readonly textHeight: number;
  /** Gap between the query frames and the results. */
  readonly gap: number;
}

/** Default layout: 64×128 cells (person crops), 4-pixel borders. */
export const RANKED_LAYOUT: RankedGridLayout = {
  cellWidth: 64,
  cellHeight: 128,
  border: 4,
  margin: 6,
  textHeight: 16,
  gap: 18,
};

/** Top-left corner of the bordered cell `column` of row `row` (query frames first, then results after the gap). */
export function rankedCellOrigin(
  layout: RankedGridLayout,
  queryColumns: number,
  row: number,
  column: number,
): { x: number; y: number } {
  const cell = layout.cellWidth + 2 * layout.border + layout.margin;
  const x = layout.margin + column * cell + (column >= queryColumns ? layout.gap : 0);
  const y = layout.margin + row * (layout.cellHeight + 2 * layout.border + layout.textHeight + layout.margin);
  return { x, y };
}

const escapeXml = (text: string) =>
  text.replace(/[&<>"]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[ch] ?? ch);

/**
 * Draws ranked results as torchreid's `visrank` does, one row per query: the query frame(s) with a grey border, then
 * the top-ranked gallery tracklets' first frames with a green (correct identity) or red (wrong) border and the
 * distance under each. Rendered with sharp; the text is an SVG overlay.
 * @param path the PNG to write.
 * @returns the picture's size.
 * @throws InvalidOptionError when there is no row.
 */
export async function writeRankedGrid(
  rows: readonly RankedRow[],
  path: string,
  layout: RankedGridLayout = RANKED_LAYOUT,
): Promise<{ width: number; height: number }> {
  if (rows.length === 0) throw new InvalidOptionError('ranked rows', rows, 'There is no query to draw.');
  const queryColumns = Math.max(...rows.map((row) => row.queryFrames.length));
  const resultColumns = Math.max(...rows.map((row) => row.results.length));
  const last = rankedCellOrigin(layout, queryColumns, rows.length - 1, queryColumns + resultColumns - 1);
  const width = last.x + layout.cellWidth + 2 * layout.border + layout.margin;
  const height = last.y + layout.cellHeight + 2 * layout.border + layout.textHeight + layout.margin;
  const layers: OverlayOptions[] = [];
  const texts: string[] = [];
  const cell = async (frame: string, colour: readonly number[], origin: { x: number; y: number }, text: string) => {
    const [r, g, b] = colour as [number, number, number];
    const inner = await sharp(frame)
      .resize(layout.cellWidth, layout.cellHeight, { fit: 'fill' })
      .removeAlpha()
      .toBuffer();
    const bordered = await sharp(inner)
      .extend({
        top: layout.border,
        bottom: layout.border,
        left: layout.border,
        right: layout.border,
        background: { r, g, b },
      })
      .png()
      .toBuffer();
    layers.push({ input: bordered, left: origin.x, top: origin.y });
    const textX = origin.x + layout.cellWidth / 2 + layout.border;
    const textY = origin.y + layout.cellHeight + 2 * layout.border + layout.textHeight - 4;
    texts.push(`<text x="${textX}" y="${textY}" text-anchor="middle">${escapeXml(text)}</text>`);
  };
  for (const [rowIndex, row] of rows.entries()) {
    for (const [column, frame] of row.queryFrames.entries()) {
      await cell(
        frame,
        RANKED_COLOURS.query,
        rankedCellOrigin(layout, queryColumns, rowIndex, column),
        column === 0 ? row.label : '',
      );
    }
    for (const [rank, item] of row.results.entries()) {
      const colour =
        item.correct === undefined
          ? RANKED_COLOURS.query
          : item.correct
            ? RANKED_COLOURS.correct
            : RANKED_COLOURS.wrong;
      await cell(
        item.frame,
        colour,
        rankedCellOrigin(layout, queryColumns, rowIndex, queryColumns + rank),
        item.distance.toFixed(3),
      );
    }
  }
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><g font-family="sans-serif" font-size="10" fill="#222">${texts.join('')}</g></svg>`;
  layers.push({ input: Buffer.from(svg), left: 0, top: 0 });
  const png = await sharp({ create: { width, height, channels: 3, background: { r: 255, g: 255, b: 255 } } })
    .composite(layers)
    .png()
    .toBuffer();
  await writeFile(path, png);
  return { width, height };
}
