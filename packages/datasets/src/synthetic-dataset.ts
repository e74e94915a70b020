import { lstat, mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createRandom, InvalidOptionError, type Random } from '@vkd/core';
import { createConcurrencyLimit } from './concurrency-limit';
import { writeMatFile } from './mat-file-writer';
import { loadSharp } from './sharp-module';
import {
  planSyntheticDataset,
  VISIBLE_ATTRIBUTES,
  type SyntheticCamera,
  type SyntheticDatasetOptions,
  type SyntheticPlan,
} from './synthetic-plan';
import { renderSyntheticFrame, type FramePose } from './synthetic-render';

/** File written next to `info/` describing how the set was generated (generator version, options, attributes). */
export const SYNTHETIC_MANIFEST = 'synthetic.json';
/** Changes whenever the same options would produce different images. */
export const SYNTHETIC_GENERATOR = '@vkd/datasets generateSyntheticDataset v2';

/** Everything `generateSyntheticDataset` writes for one tracklet. */
interface PlannedTracklet {
  readonly split: 'train' | 'test';
  readonly pid: number;
  readonly camera: number;
  readonly names: readonly string[];
  readonly poses: readonly FramePose[];
}

/**
 * Writes a synthetic multi-view Re-ID dataset in the exact MARS layout (`bbox_train/`, `bbox_test/`, `info/` with
 * CRLF name lists and zlib-compressed MAT v5 track/query files), loadable with `loadDataset('mars' | 'synthetic', { root })`.
 *
 * Each identity is a tuple of attributes from small value sets: upper/lower colours and hair (seen from every
 * viewpoint), a front pattern, a backpack (back and sides) and a bag (left side only), so a single frame matches
 * several identities; camera `c` sees viewpoints around `c·360°/cameras` with its own background, lighting and
 * noise; each tracklet turns slowly within that range.
 * Several views from several cameras (VKD's teacher input) identify a person, one or two frames often do not.
 * Queries: the first tracklet of every test identity in every camera (one per (pid, camera), as MARS).
 *
 * 40 ids × 4 cameras × 2 tracklets × 8 frames at 128×64 (2,560 JPEGs) takes about a second.
 * Deterministic for a seed (same bytes with the same sharp/libvips version).
 * Writes only into a root without `bbox_train/`, `bbox_test/`, `info/` and `synthetic.json` (it never overwrites);
 * `loadDataset('synthetic', { root, generate, regenerate })` replaces an earlier generated set safely.
 * @returns the absolute root.
 * @throws InvalidOptionError for out-of-range options, or a root that already holds one of those entries.
 */
export async function generateSyntheticDataset(options: SyntheticDatasetOptions): Promise<{ root: string }> {
  const plan = planSyntheticDataset(options);
  const root = resolve(options.root);
  await refuseExistingSet(root);
  const { height, width, quality } = plan.options;
  const tracklets = planTracklets(plan);
  const sharp = await loadSharp();
  for (const folder of new Set(
    tracklets.map((t) => join(root, t.split === 'train' ? 'bbox_train' : 'bbox_test', pad(t.pid, 4))),
  )) {
    await mkdir(folder, { recursive: true });
  }
  await mkdir(join(root, 'info'), { recursive: true });
  const jobs = tracklets.flatMap((tracklet) =>
    tracklet.names.map((name, index) => ({ tracklet, name, pose: tracklet.poses[index] as FramePose })),
  );
  const limit = createConcurrencyLimit(4);
  const write = ({ tracklet, name, pose }: (typeof jobs)[number]) =>
    limit(async () => {
      const pixels = renderSyntheticFrame(
        plan.identities[tracklet.pid - 1] as SyntheticPlan['identities'][number],
        plan.cameras[tracklet.camera] as SyntheticCamera,
        pose,
        height,
        width,
      );
      const folder = join(root, tracklet.split === 'train' ? 'bbox_train' : 'bbox_test', name.slice(0, 4));
      await sharp(pixels, { raw: { width, height, channels: 3 } })
        .jpeg({ quality, chromaSubsampling: '4:4:4' })
        .toFile(join(folder, name));
    });
  await Promise.all(jobs.map(write));
  await writeInfo(root, tracklets);
  const manifest = {
    generator: SYNTHETIC_GENERATOR,
    options: plan.options,
    attributeSizes: plan.attributeSizes,
    visibleAttributes: VISIBLE_ATTRIBUTES,
    identities: plan.identities.map((identity) => ({
      id: identity.id,
      split: identity.split,
      attributes: identity.attributes,
    })),
    cameras: plan.cameras.map((camera) => ({
      viewCentre: camera.viewCentre,
      viewSpread: camera.viewSpread,
      noise: camera.noise,
    })),
  };
  await writeFile(join(root, SYNTHETIC_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  return { root };
}

async function refuseExistingSet(root: string): Promise<void> {
  for (const entry of ['bbox_train', 'bbox_test', 'info', SYNTHETIC_MANIFEST]) {
    if (
      await lstat(join(root, entry)).then(
        () => true,
        () => false,
      )
    ) {
      throw new InvalidOptionError(
        'root',
        root,
        `It already holds ${entry}; generate into a folder without bbox_train/, bbox_test/, info/ and ${SYNTHETIC_MANIFEST} (nothing is overwritten).`,
      );
    }
  }
}

function pad(value: number, digits: number): string {
  return String(value).padStart(digits, '0');
}

/** Tracklets in MARS order (pid, camera, tracklet, frame) with their frame names and poses. */
function planTracklets(plan: SyntheticPlan): PlannedTracklet[] {
  const { trackletsPerIdentity, framesPerTracklet, width, height, seed } = plan.options;
  const tracklets: PlannedTracklet[] = [];
  for (const identity of plan.identities) {
    plan.cameras.forEach((camera, cameraIndex) => {
      for (let k = 0; k < trackletsPerIdentity; k++) {
        const random = createRandom((seed * 7919) ^ (identity.id * 104729) ^ ((cameraIndex * 100 + k) * 1299709));
        const trackletNumber = cameraIndex * trackletsPerIdentity + k + 1;
        const names = Array.from(
          { length: framesPerTracklet },
          (_, f) => `${pad(identity.id, 4)}C${cameraIndex + 1}T${pad(trackletNumber, 4)}F${pad(f + 1, 3)}.jpg`,
        );
        tracklets.push({
          split: identity.split,
          pid: identity.id,
          camera: cameraIndex,
          names,
          poses: walk(random, camera, framesPerTracklet, width, height),
        });
      }
    });
  }
  return tracklets;
}

/** A person walking through the camera's field of view while slowly turning within the camera's viewpoint range. */
function walk(random: Random, camera: SyntheticCamera, frames: number, width: number, height: number): FramePose[] {
  let angle = camera.viewCentre + camera.viewSpread * (2 * random.next() - 1);
  let turn = 12 * (2 * random.next() - 1);
  const direction = random.next() < 0.5 ? -1 : 1;
  const scale = 0.9 + 0.15 * random.next();
  const startX = -0.08 * width * direction;
  return Array.from({ length: frames }, (_, f) => {
    const pose: FramePose = {
      angle,
      shiftX: startX + (0.16 * width * direction * f) / Math.max(1, frames - 1) + (random.next() - 0.5) * 0.04 * width,
      shiftY: (random.next() - 0.5) * 0.04 * height,
      scale: scale * (0.98 + 0.04 * random.next()),
      flicker: 0.93 + 0.14 * random.next(),
      noiseSeed: random.integer(1 << 30),
    };
    angle += turn;
    if (Math.abs(angle - camera.viewCentre) > camera.viewSpread) {
      turn = -turn; // turn back into the camera's viewpoint range
      angle += 2 * turn;
    }
    return pose;
  });
}

/** Writes `info/` exactly as MARS-evaluation does: CRLF name lists, [start end pid cam] int32, query_IDX uint16. */
async function writeInfo(root: string, tracklets: readonly PlannedTracklet[]): Promise<void> {
  for (const split of ['train', 'test'] as const) {
    const rows: number[][] = [];
    const names: string[] = [];
    const queries: number[] = [];
    const seenPairs = new Set<string>();
    for (const tracklet of tracklets.filter((t) => t.split === split)) {
      rows.push([names.length + 1, names.length + tracklet.names.length, tracklet.pid, tracklet.camera + 1]);
      names.push(...tracklet.names);
      const pair = `${tracklet.pid}/${tracklet.camera}`;
      if (!seenPairs.has(pair)) {
        seenPairs.add(pair);
        queries.push(rows.length);
      }
    }
    await writeFile(join(root, 'info', `${split}_name.txt`), names.map((name) => `${name}\r\n`).join(''));
    await writeFile(
      join(root, 'info', `tracks_${split}_info.mat`),
      writeMatFile([{ name: `track_${split}_info`, rows, storage: 'int32' }]),
    );
    if (split === 'test') {
      await writeFile(
        join(root, 'info', 'query_IDX.mat'),
        writeMatFile([
          {
            name: 'query_IDX',
            rows: [queries],
            storage: queries.length > 0 && Math.max(...queries) > 65535 ? 'int32' : 'uint16',
          },
        ]),
      );
    }
  }
}
