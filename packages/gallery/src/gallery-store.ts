import type { GalleryHit } from './tracklet-record';

/**
 * Rows to append, column by column (what vector stores ingest fastest). `vectors` is [n, D] row-major and already
 * L2-normalised; optional values are `null` when unknown.
 */
export interface StoreRows {
  readonly trackletIds: readonly string[];
  readonly identities: readonly (number | null)[];
  readonly cameras: readonly number[];
  readonly startTimes: readonly (number | null)[];
  readonly endTimes: readonly (number | null)[];
  readonly framePaths: readonly (readonly string[])[];
  readonly positions: readonly number[];
  readonly vectors: Float32Array;
}

/** Settings of the approximate index (IVF-PQ), with exact re-scoring of the candidates at search time. */
export interface ApproximateIndexSettings {
  /** IVF partitions (k-means lists). */
  readonly partitions: number;
  /** PQ sub-vectors; must divide D. */
  readonly subVectors: number;
}

/** How one search runs. */
export interface StoreSearch {
  readonly limit: number;
  /** SQL predicate applied before ranking (prefilter), built by `filterToPredicate`. */
  readonly predicate: string | undefined;
  /** Scan every row with the full vectors, ignoring any approximate index. */
  readonly exact: boolean;
  /** IVF partitions probed (approximate search). */
  readonly probes: number;
  /** Candidates re-scored exactly with the full vectors = limit × refineFactor (approximate search). */
  readonly refineFactor: number;
}

/** Labels of every stored row, for evaluation: parallel arrays. */
export interface StoreLabels {
  readonly positions: Int32Array;
  readonly identities: Int32Array;
  readonly cameras: Int32Array;
}

/**
 * What `@vkd/gallery` needs from a vector store. The embedded LanceDB store implements it; a server engine
 * (Qdrant, Milvus, pgvector) can be added as another implementation without touching the gallery logic.
 */
export interface GalleryStore {
  /** Engine name, e.g. `"lancedb"`. */
  readonly engine: string;
  append(rows: StoreRows): Promise<void>;
  search(query: Float32Array, search: StoreSearch): Promise<GalleryHit[]>;
  /** Deletes the rows matching the predicate; returns how many. */
  delete(predicate: string): Promise<number>;
  count(predicate?: string): Promise<number>;
  /** Which of these tracklet ids are stored already. */
  existingTrackletIds(trackletIds: readonly string[]): Promise<Set<string>>;
  /** The largest stored position, or -1 when empty. */
  maxPosition(): Promise<number>;
  labels(): Promise<StoreLabels>;
  buildIndex(settings: ApproximateIndexSettings): Promise<void>;
  /** The approximate index, when one was built: its settings and how many rows it does not cover yet. */
  indexInfo(): Promise<{ readonly type: string; readonly unindexedRows: number } | undefined>;
  /** Bytes the store occupies on disk (0 when unknown). */
  diskBytes(): Promise<number>;
  close(): void;
}
