import { InvalidOptionError } from '@vkd/core';
import { createConcurrencyLimit } from './concurrency-limit';
import { imageDecodeError } from './image-decode-error';
import { buildDataset, type RawSplits } from './dataset-builder';
import { loadSharp } from './sharp-module';
import type { LoadDatasetOptions, ReidDataset, Tracklet } from './types';

/**
 * Applies the shared loader options (`validateFrames`, `onBadFrame`, `minFrames`) and builds the dataset.
 * With `validateFrames`, every distinct frame is fully decoded once with sharp (bounded concurrency);
 * a bad frame throws `CorruptImageError` (a `DatasetFormatError`) naming it, or with `onBadFrame: 'skip'` is removed
 * from its tracklet and counted in `statistics.skippedFrames` (a tracklet left empty is dropped and counted).
 */
export async function finishDataset(raw: RawSplits, options: LoadDatasetOptions): Promise<ReidDataset> {
  const policy = options.onBadFrame ?? 'error';
  if (policy !== 'error' && policy !== 'skip')
    throw new InvalidOptionError('onBadFrame', policy, 'Use "error" or "skip".');
  const minFrames = options.minFrames ?? 0;
  if (!Number.isInteger(minFrames) || minFrames < 0)
    throw new InvalidOptionError('minFrames', minFrames, 'Use an integer ≥ 0.');
  if (!options.validateFrames) return buildDataset({ ...raw, minFrames });
  const bad = await findBadFrames([raw.train, raw.query, raw.gallery].flat(), policy);
  let skippedTracklets = 0;
  const clean = (tracklets: readonly Tracklet[]) =>
    tracklets.flatMap((tracklet) => {
      const frames = tracklet.frames.filter((frame) => !bad.has(frame));
      if (frames.length === tracklet.frames.length) return [tracklet];
      if (frames.length === 0) {
        skippedTracklets++;
        return [];
      }
      return [
        {
          ...tracklet,
          frames,
          metadata: { ...tracklet.metadata, skippedFrames: tracklet.frames.length - frames.length },
        },
      ];
    });
  return buildDataset({
    ...raw,
    train: clean(raw.train),
    query: clean(raw.query),
    gallery: clean(raw.gallery),
    skippedFrames: bad.size,
    skippedTracklets,
    minFrames,
  });
}

async function findBadFrames(
  tracklets: readonly Tracklet[],
  policy: 'error' | 'skip',
  concurrency = 4,
): Promise<Set<string>> {
  const sharp = await loadSharp();
  const paths = [...new Set(tracklets.flatMap((t) => t.frames))];
  const bad = new Set<string>();
  const limit = createConcurrencyLimit(concurrency);
  const check = (path: string) =>
    limit(async () => {
      try {
        // failOn 'warning' (sharp's default) also rejects truncated JPEGs ("premature end of JPEG file").
        await sharp(path, { failOn: 'warning' }).raw().toBuffer();
      } catch (error) {
        if (policy === 'error') {
          throw imageDecodeError(
            path,
            error,
            "Replace the file, or pass onBadFrame: 'skip' to drop and count bad frames.",
          );
        }
        bad.add(path);
      }
    });
  await Promise.all(paths.map(check));
  return bad;
}
