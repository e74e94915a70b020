import sharp from 'sharp';
import { ShapeMismatchError } from '@vkd/core';

const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

/** One column of the panel: a title and N heat maps ([N, H, W] in [0, 1]). */
export interface HeatmapColumn {
  readonly title: string;
  readonly maps: Float32Array;
}

/** Options of `writeHeatmapPanel`. */
export interface HeatmapPanelOptions {
  /** [N, H, W, 3] ImageNet-normalised RGB frames. */
  readonly frames: Float32Array;
  readonly count: number;
  readonly height: number;
  readonly width: number;
  /** Heat-map columns drawn next to the frame (e.g. teacher, student). */
  readonly columns: readonly HeatmapColumn[];
  /** Row captions (e.g. `id 12 cam 3`). */
  readonly rowLabels?: readonly string[];
  /** Integer upscaling of each cell. */
  readonly scale?: number;
  readonly path: string;
}

/** Jet colour map: 0 → dark blue, 0.5 → green/yellow, 1 → dark red. */
export function jetColor(value: number): [number, number, number] {
  const v = Math.min(1, Math.max(0, value));
  const channel = (offset: number) => Math.min(1, Math.max(0, 1.5 - Math.abs(4 * v - offset)));
  return [channel(3), channel(2), channel(1)];
}

/**
 * Draws a grid PNG: one row per frame; first column the frame, then one column per heat map, each map overlaid on the
 * frame (50 % jet colour map), with column titles on top.
 * @throws ShapeMismatchError when the arrays do not hold `count` frames of `height × width`.
 */
export async function writeHeatmapPanel(options: HeatmapPanelOptions): Promise<void> {
  const { count, height, width, frames, columns } = options;
  const pixels = count * height * width;
  if (frames.length !== pixels * 3)
    throw new ShapeMismatchError(
      'writeHeatmapPanel.frames',
      `[${count}, ${height}, ${width}, 3]`,
      `${frames.length} values`,
    );
  for (const column of columns) {
    if (column.maps.length !== pixels)
      throw new ShapeMismatchError(
        `writeHeatmapPanel.columns[${column.title}]`,
        `[${count}, ${height}, ${width}]`,
        `${column.maps.length} values`,
      );
  }
  const scale = options.scale ?? 4;
  const gap = 2;
  const labelWidth = options.rowLabels ? 24 : 0;
  const cellColumns = columns.length + 1;
  const gridWidth = labelWidth + cellColumns * (width + gap) + gap;
  const gridHeight = count * (height + gap) + gap;
  const grid = new Uint8Array(gridWidth * gridHeight * 3).fill(255);
  for (let frame = 0; frame < count; frame++) {
    const top = gap + frame * (height + gap);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const pixel = (frame * height + y) * width + x;
        const rgb = [0, 1, 2].map((c) =>
          Math.min(1, Math.max(0, (frames[pixel * 3 + c] as number) * IMAGENET_STD[c]! + IMAGENET_MEAN[c]!)),
        );
        for (let column = 0; column < cellColumns; column++) {
          const left = labelWidth + gap + column * (width + gap);
          const heat = column === 0 ? undefined : jetColor(columns[column - 1]!.maps[pixel] as number);
          const offset = ((top + y) * gridWidth + left + x) * 3;
          for (let c = 0; c < 3; c++) {
            const value = heat ? 0.5 * rgb[c]! + 0.5 * heat[c]! : rgb[c]!;
            grid[offset + c] = Math.round(value * 255);
          }
        }
      }
    }
  }
  const scaledWidth = gridWidth * scale;
  const headerHeight = 28;
  const titles = ['frame', ...columns.map((column) => column.title)];
  const escapeXml = (text: string) => text.replace(/[<>&"]/g, (ch) => `&#${ch.charCodeAt(0)};`);
  const header = titles
    .map(
      (title, column) =>
        `<text x="${(labelWidth + gap + column * (width + gap) + width / 2) * scale}" y="19" font-family="sans-serif" font-size="14" text-anchor="middle">${escapeXml(title)}</text>`,
    )
    .join('');
  const rows = (options.rowLabels ?? [])
    .map(
      (label, row) =>
        `<text transform="translate(${(labelWidth / 2) * scale + 5}, ${headerHeight + (gap + row * (height + gap) + height / 2) * scale}) rotate(-90)" font-family="sans-serif" font-size="13" text-anchor="middle">${escapeXml(label)}</text>`,
    )
    .join('');
  const overlay = `<svg xmlns="http://www.w3.org/2000/svg" width="${scaledWidth}" height="${gridHeight * scale + headerHeight}">${header}${rows}</svg>`;
  const body = await sharp(Buffer.from(grid), { raw: { width: gridWidth, height: gridHeight, channels: 3 } })
    .resize(scaledWidth, gridHeight * scale, { kernel: 'nearest' })
    .png()
    .toBuffer();
  await sharp({
    create: { width: scaledWidth, height: gridHeight * scale + headerHeight, channels: 3, background: '#ffffff' },
  })
    .composite([
      { input: body, top: headerHeight, left: 0 },
      { input: Buffer.from(overlay), top: 0, left: 0 },
    ])
    .png()
    .toFile(options.path);
}
