import type { EvaluationReport, ExtractedFeatures } from '@vkd/trainer';

/** Query/gallery features of one protocol, from an evaluation report kept with `keepFeatures`. */
export interface ProtocolFeatures {
  readonly protocol: 'i2v' | 'v2v' | 'i2i' | 'v2i';
  /** File stems of `--save-features`: `query-images`, `query-videos`, `gallery`, `gallery-images`. */
  readonly queryName: string;
  readonly galleryName: string;
  readonly query: ExtractedFeatures;
  readonly gallery: ExtractedFeatures;
}

/**
 * The (query, gallery) feature pairs behind each protocol of a report: I2V = query images × gallery tracklets,
 * V2V = query videos × gallery tracklets, I2I / V2I = the same queries × gallery frames as images.
 */
export function protocolFeatures(report: EvaluationReport): ProtocolFeatures[] {
  const features = report.features ?? {};
  const pairs: ProtocolFeatures[] = [];
  const add = (
    protocol: ProtocolFeatures['protocol'],
    queryName: string,
    query: ExtractedFeatures | undefined,
    galleryName: string,
    gallery: ExtractedFeatures | undefined,
  ) => {
    if (report.protocols[protocol] && query && gallery)
      pairs.push({ protocol, queryName, galleryName, query, gallery });
  };
  add('i2v', 'query-images', features.queryImages, 'gallery', features.gallery);
  add('v2v', 'query-videos', features.queryVideos, 'gallery', features.gallery);
  add('i2i', 'query-images', features.queryImages, 'gallery-images', features.galleryImages);
  add('v2i', 'query-videos', features.queryVideos, 'gallery-images', features.galleryImages);
  return pairs;
}
