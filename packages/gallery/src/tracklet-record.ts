/** One gallery entry: a tracklet's embedding and what is known about it. */
export interface TrackletRecord {
  /** Unique within the gallery (e.g. `"0001C1T0002"` or a path); adding an existing id is refused. */
  readonly trackletId: string;
  /** [D] float32 embedding; stored L2-normalised (search uses cosine distance, 1 − cos). */
  readonly embedding: Float32Array | readonly number[];
  /** Identity label when known (evaluation, annotation), otherwise omitted. */
  readonly identity?: number;
  /** Camera index (0-based, as `@vkd/datasets` returns it). */
  readonly camera: number;
  /** Time range the tracklet covers, in any monotonic unit the deployment chooses (e.g. Unix seconds). */
  readonly startTime?: number;
  readonly endTime?: number;
  /** The tracklet's frame files, in order. */
  readonly framePaths: readonly string[];
}

/** A search hit: the stored record (embedding left out) and its distance to the query. */
export interface GalleryHit {
  readonly trackletId: string;
  readonly identity: number | undefined;
  readonly camera: number;
  readonly startTime: number | undefined;
  readonly endTime: number | undefined;
  readonly framePaths: readonly string[];
  /** Cosine distance 1 − cos(query, embedding), in [0, 2]. */
  readonly distance: number;
  /** Insertion order of the record (0-based, never reused): the gallery index used by evaluation. */
  readonly position: number;
}

/** Which model made a gallery's embeddings: queries from another model are refused. */
export interface GalleryModel {
  /** Stable identifier of the model, e.g. a content hash of its weights or a run name. */
  readonly modelId: string;
  /** Embedding dimension D. */
  readonly dimension: number;
  /** Input settings the embeddings were extracted with (image size, frames per tracklet, normalisation, …). */
  readonly inputSettings?: Readonly<Record<string, unknown>>;
}
