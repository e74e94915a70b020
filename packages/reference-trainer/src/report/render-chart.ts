import { writeFile } from 'node:fs/promises';
import sharp from 'sharp';
import type { TopLevelSpec } from 'vega-lite';

/**
 * Renders a Vega-Lite spec to SVG with Vega's headless renderer (no canvas, no network: the spec carries its data
 * inline) and rasterises it to PNG with sharp (librsvg).
 * @param spec a Vega-Lite spec with inline `data.values`.
 * @param path where the PNG goes.
 * @param scale pixel density (2 = crisp on high-DPI screens).
 * @returns the SVG text (embeddable in HTML).
 */
export async function renderChartPng(spec: TopLevelSpec, path: string, scale = 2): Promise<string> {
  // vega/vega-lite are ESM-only and large: load them only when a report is drawn.
  const [vega, vegaLite] = await Promise.all([import('vega'), import('vega-lite')]);
  const compiled = vegaLite.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    const png = await sharp(Buffer.from(svg), { density: 72 * scale })
      .png()
      .toBuffer();
    await writeFile(path, png);
    return svg;
  } finally {
    view.finalize();
  }
}
