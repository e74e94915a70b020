import type { Tracklet } from './types';

/**
 * Derives a deterministic query/gallery split from test tracklets when a dataset ships none
 * (MARS without `info/`, `folder` layouts): for every identity > 0 seen by at least two cameras, the first
 * tracklet (in the given order) of each of its cameras is a query, as MARS `query_IDX` has one query per
 * (identity, camera). `'official'`: gallery = all test tracklets (queries included, junked by same id + camera);
 * `'torchreid'`: gallery = test − query.
 */
export function deriveQueryGallery(
  test: readonly Tracklet[],
  protocol: 'official' | 'torchreid',
): { query: Tracklet[]; gallery: Tracklet[] } {
  const camerasPerIdentity = new Map<number, Set<number>>();
  for (const tracklet of test) {
    const cameras = camerasPerIdentity.get(tracklet.identity) ?? new Set<number>();
    cameras.add(tracklet.camera);
    camerasPerIdentity.set(tracklet.identity, cameras);
  }
  const seen = new Set<string>();
  const isQuery = test.map((tracklet) => {
    const key = `${tracklet.identity}/${tracklet.camera}`;
    if (tracklet.identity <= 0 || (camerasPerIdentity.get(tracklet.identity)?.size ?? 0) < 2 || seen.has(key))
      return false;
    seen.add(key);
    return true;
  });
  return {
    query: test.filter((_, index) => isQuery[index]),
    gallery: protocol === 'official' ? [...test] : test.filter((_, index) => !isQuery[index]),
  };
}

/**
 * The `protocol` text of a split a loader derived itself (no official query/gallery files): never called "official",
 * it says the split was made up and whether its gallery holds the queries.
 * @param how how query and gallery were chosen, e.g. `no info/: query = first tracklet of each identity in each camera`.
 */
export function derivedSplitProtocol(protocol: 'official' | 'torchreid', how: string): string {
  const gallery =
    protocol === 'official'
      ? 'gallery includes the queries, as the official MARS protocol'
      : 'gallery excludes the queries, as torchreid';
  return `derived split, not the dataset's official one (${how}; ${gallery})`;
}
