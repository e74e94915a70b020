import type { DatasetStatistics, ReidDataset, SplitStatistics, Tracklet } from './types';

function splitStatistics(tracklets: readonly Tracklet[]): SplitStatistics {
  let frames = 0;
  let minFrames = tracklets.length > 0 ? Number.POSITIVE_INFINITY : 0;
  let maxFrames = 0;
  for (const tracklet of tracklets) {
    frames += tracklet.frames.length;
    minFrames = Math.min(minFrames, tracklet.frames.length);
    maxFrames = Math.max(maxFrames, tracklet.frames.length);
  }
  return {
    identities: new Set(tracklets.map((t) => t.identity)).size,
    tracklets: tracklets.length,
    frames,
    minFrames,
    maxFrames,
    cameras: new Set(tracklets.map((t) => t.camera)).size,
  };
}

/** Counts identities, tracklets, frames (min/max per tracklet) and cameras per split. */
export function computeStatistics(
  splits: { train: readonly Tracklet[]; query: readonly Tracklet[]; gallery: readonly Tracklet[] },
  skippedFrames = 0,
  skippedTracklets = 0,
): DatasetStatistics {
  return {
    train: splitStatistics(splits.train),
    query: splitStatistics(splits.query),
    gallery: splitStatistics(splits.gallery),
    skippedFrames,
    skippedTracklets,
  };
}

/**
 * A torchreid-style summary table:
 * ```
 * => Loaded mars (protocol: official)
 *   ----------------------------------------------------------
 *   subset   | # ids | # tracklets | # frames | frames/tracklet | # cams
 * ```
 */
export function formatStatistics(dataset: Pick<ReidDataset, 'name' | 'protocol' | 'statistics'>): string {
  const { statistics } = dataset;
  const header = ['subset', '# ids', '# tracklets', '# frames', 'frames/tracklet', '# cams'];
  const row = (name: string, split: SplitStatistics) => [
    name,
    String(split.identities),
    String(split.tracklets),
    String(split.frames),
    split.tracklets === 0
      ? '-'
      : `${split.minFrames}/${split.maxFrames}/${(split.frames / split.tracklets).toFixed(1)}`,
    String(split.cameras),
  ];
  const rows = [
    header,
    row('train', statistics.train),
    row('query', statistics.query),
    row('gallery', statistics.gallery),
  ];
  const widths = header.map((_, column) => Math.max(...rows.map((cells) => (cells[column] as string).length)));
  const format = (cells: string[]) =>
    `  ${cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column] as number) : cell.padStart(widths[column] as number))).join(' | ')}`;
  const rule = `  ${'-'.repeat(format(header).length - 2)}`;
  const lines = [
    `=> Loaded ${dataset.name} (protocol: ${dataset.protocol})`,
    rule,
    format(header),
    rule,
    ...rows.slice(1).map(format),
    rule,
  ];
  lines.push('  (frames/tracklet = min/max/mean)');
  if (statistics.skippedFrames > 0 || statistics.skippedTracklets > 0) {
    lines.push(
      `  skipped bad frames: ${statistics.skippedFrames}, tracklets left empty and dropped: ${statistics.skippedTracklets}`,
    );
  }
  return lines.join('\n');
}
