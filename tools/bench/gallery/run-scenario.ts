/**
 * One gallery benchmark scenario in its own process (so its peak RSS is its own). Prints one JSON line.
 *   index: stream G synthetic tracklets into a LanceDB gallery, build IVF-PQ, time queries for several settings,
 *          recall@10 against the exact top 10, and metrics through the index.
 *   exact: hold the same gallery in memory and evaluate the same queries with @vkd/metrics (the baseline).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRandom } from '@vkd/core';
import { evaluateFeatures, pairwiseDistances } from '@vkd/metrics';
import { evaluateThroughGallery, openGallery } from '../../../packages/gallery/src/index';
import { createSyntheticSpace } from '../../../packages/gallery/src/synthetic-embeddings';

interface Scenario {
  readonly kind: 'index' | 'exact';
  readonly tracklets: number;
  readonly dimension: number;
  readonly queries: number;
  readonly settings: readonly { readonly probes: number; readonly refineFactor: number }[];
  readonly seed: number;
}

const scenario = JSON.parse(process.argv[2] as string) as Scenario;
const { tracklets, dimension } = scenario;
const identities = Math.max(1, Math.floor(tracklets / 8));
const space = createSyntheticSpace({ dimension, identities, seed: scenario.seed });
const chunkRows = Math.max(1000, Math.floor(16_000_000 / dimension)); // 64 MB of float32 per chunk

// Queries: the same identities (spread over all of them), other noise and cameras.
const queryIdentities = Int32Array.from({ length: scenario.queries }, (_, q) => (q * 7919) % identities);
const queryCameras = new Int32Array(scenario.queries);
const queryFeatures = new Float32Array(scenario.queries * dimension);
space.fill(queryFeatures, queryIdentities, queryCameras, createRandom(scenario.seed + 2));

function* galleryChunks(): Generator<{
  start: number;
  features: Float32Array;
  identities: Int32Array;
  cameras: Int32Array;
}> {
  const stream = createRandom(scenario.seed + 1);
  for (let start = 0; start < tracklets; start += chunkRows) {
    const rows = Math.min(chunkRows, tracklets - start);
    const ids = Int32Array.from({ length: rows }, (_, row) => (start + row) % identities);
    const cameras = new Int32Array(rows);
    const features = new Float32Array(rows * dimension);
    space.fill(features, ids, cameras, stream);
    yield { start, features, identities: ids, cameras };
  }
}

const seconds = (from: number) => (performance.now() - from) / 1000;
const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
};

async function runIndex(): Promise<Record<string, unknown>> {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'vkd-gallery-bench-'));
  const db = path.join(directory, 'db');
  const gallery = await openGallery(db, { model: { modelId: `synthetic-${dimension}`, dimension }, mode: 'write' });
  // Exact top 10 of every query, kept while streaming (cosine distances from @vkd/metrics' kernel).
  const topIds = Array.from({ length: scenario.queries }, () => [] as { distance: number; position: number }[]);
  let generateSeconds = 0;
  let exactSeconds = 0;
  let ingestSeconds = 0;
  let started = performance.now();
  for (const chunk of galleryChunks()) {
    generateSeconds += seconds(started);
    let mark = performance.now();
    const distances = pairwiseDistances(queryFeatures, chunk.features, dimension, { metric: 'cosine' });
    const rows = chunk.identities.length;
    for (let q = 0; q < scenario.queries; q++) {
      const list = topIds[q] as { distance: number; position: number }[];
      for (let row = 0; row < rows; row++) {
        const distance = distances[q * rows + row] as number;
        if (list.length < 10 || distance < (list[list.length - 1] as { distance: number }).distance) {
          list.push({ distance, position: chunk.start + row });
          list.sort((a, b) => a.distance - b.distance || a.position - b.position);
          if (list.length > 10) list.pop();
        }
      }
    }
    exactSeconds += seconds(mark);
    mark = performance.now();
    await gallery.add(
      Array.from({ length: rows }, (_, row) => ({
        trackletId: String(chunk.start + row),
        embedding: chunk.features.subarray(row * dimension, (row + 1) * dimension),
        identity: chunk.identities[row] as number,
        camera: chunk.cameras[row] as number,
        startTime: chunk.start + row,
        endTime: chunk.start + row + 1,
        framePaths: [`frames/${chunk.start + row}.jpg`],
      })),
    );
    ingestSeconds += seconds(mark);
    started = performance.now();
  }
  const mark = performance.now();
  const indexSettings = await gallery.buildIndex();
  const buildSeconds = seconds(mark);
  const diskBytes = (await gallery.stats()).diskBytes;
  const results = [];
  for (const setting of scenario.settings) {
    const latencies: number[] = [];
    let found = 0;
    const queryStart = performance.now();
    for (let q = 0; q < scenario.queries; q++) {
      const vector = queryFeatures.subarray(q * dimension, (q + 1) * dimension);
      const t = performance.now();
      const hits = await gallery.search(vector, { top: 10, ...setting });
      latencies.push(performance.now() - t);
      const truth = new Set((topIds[q] as { position: number }[]).map((item) => item.position));
      found += hits.filter((hit) => truth.has(hit.position)).length;
    }
    const total = seconds(queryStart);
    results.push({
      ...setting,
      recallAt10: found / (10 * scenario.queries),
      latencyMsP50: percentile(latencies, 50),
      latencyMsP99: percentile(latencies, 99),
      queriesPerSecond: scenario.queries / total,
    });
  }
  const chosen = scenario.settings[0] as { probes: number; refineFactor: number };
  const evaluation = await evaluateThroughGallery(gallery, {
    queryFeatures,
    queryIdentities,
    queryCameras,
    top: 100,
    ...chosen,
  });
  await gallery.close();
  fs.rmSync(directory, { recursive: true, force: true });
  return {
    indexSettings,
    generateSeconds,
    ingestSeconds,
    buildSeconds,
    exactTop10Seconds: exactSeconds,
    diskBytes,
    search: results,
    throughIndex: {
      ...chosen,
      top: 100,
      rank1: evaluation.result.cmc[0],
      mAP: evaluation.result.mAP,
      seconds: evaluation.seconds,
    },
  };
}

function runExact(): Record<string, unknown> {
  // The baseline keeps the whole gallery in memory, as @vkd/metrics does.
  const galleryFeatures = new Float32Array(tracklets * dimension);
  const galleryIdentities = new Int32Array(tracklets);
  const galleryCameras = new Int32Array(tracklets);
  for (const chunk of galleryChunks()) {
    galleryFeatures.set(chunk.features, chunk.start * dimension);
    galleryIdentities.set(chunk.identities, chunk.start);
    galleryCameras.set(chunk.cameras, chunk.start);
  }
  const mark = performance.now();
  const result = evaluateFeatures({
    queryFeatures,
    galleryFeatures,
    dim: dimension,
    queryIdentities,
    queryCameras,
    galleryIdentities,
    galleryCameras,
  });
  const evaluateSeconds = seconds(mark);
  return {
    evaluateSeconds,
    rank1: result.cmc[0],
    mAP: result.mAP,
    // @vkd/metrics ranks a block of queries at a time (it has no single-query search): amortised time per query.
    msPerQuery: (1000 * evaluateSeconds) / scenario.queries,
    queriesPerSecond: scenario.queries / evaluateSeconds,
  };
}

const output = scenario.kind === 'index' ? await runIndex() : runExact();
const peakRssBytes = process.resourceUsage().maxRSS * 1024;
process.stdout.write(`${JSON.stringify({ ...scenario, ...output, peakRssBytes })}\n`);
