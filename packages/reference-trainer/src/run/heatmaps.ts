import * as tf from '@tensorflow/tfjs-core';
import type { ReidDataset, Tracklet } from '@vkd/datasets';
import { readImage } from '@vkd/datasets/node';
import type { ReidModel } from '@vkd/models';
import { gradCam } from '../report/grad-cam';
import { writeHeatmapPanel } from '../report/heatmap-panel';

/** Query tracklets spread over cameras and identities: the i-th pick takes camera i mod C, a new identity each time. */
export function pickQueries(query: readonly Tracklet[], count: number): Tracklet[] {
  const picked: Tracklet[] = [];
  const usedIdentities = new Set<number>();
  const cameras = [...new Set(query.map((tracklet) => tracklet.camera))].sort((a, b) => a - b);
  for (let round = 0; picked.length < count && round < query.length; round++) {
    const camera = cameras[round % cameras.length];
    const candidate =
      query.find(
        (tracklet) =>
          tracklet.camera === camera && !usedIdentities.has(tracklet.identity) && !picked.includes(tracklet),
      ) ?? query.find((tracklet) => !picked.includes(tracklet));
    if (!candidate) break;
    picked.push(candidate);
    usedIdentities.add(candidate.identity);
  }
  return picked;
}

/**
 * Writes a Grad-CAM panel of teacher vs student ("student explanation", paper Fig. 5) on the first frame of a few
 * query tracklets.
 * @returns the largest head-reconstruction error of the two models (see `gradCam`).
 */
export async function writeHeatmaps(
  models: ReadonlyArray<{ title: string; model: ReidModel }>,
  dataset: ReidDataset,
  imageSize: readonly [number, number],
  count: number,
  path: string,
): Promise<{ headError: number; queries: number }> {
  const [height, width] = imageSize;
  const queries = pickQueries(dataset.query, count);
  const pixels = height * width * 3;
  const frames = new Float32Array(queries.length * pixels);
  for (const [index, tracklet] of queries.entries()) {
    const image = await readImage(tracklet.frames[0] as string, { height, width });
    frames.set(image.data, index * pixels);
  }
  const input = tf.tensor4d(frames, [queries.length, height, width, 3]);
  try {
    let headError = 0;
    const columns = [];
    for (const { title, model } of models) {
      const result = await gradCam(model, input);
      headError = Math.max(headError, result.headError);
      columns.push({ title, maps: result.maps });
    }
    await writeHeatmapPanel({
      frames,
      count: queries.length,
      height,
      width,
      columns,
      rowLabels: queries.map((tracklet) => `id ${tracklet.identity} cam ${tracklet.camera}`),
      path,
    });
    return { headError, queries: queries.length };
  } finally {
    input.dispose();
  }
}
