import fs from 'node:fs';
import path from 'node:path';
import { DuplicateKeyError, InvalidOptionError } from '@vkd/core';
import { acquireAdvisoryLock, isHeldLock, type AdvisoryLock } from '@vkd/core/node';
import { GalleryLockedError } from './gallery-locked-error';
import { MANIFEST_FILE, readManifest, writeManifest } from './gallery-manifest';
import type { ApproximateIndexSettings, GalleryStore, StoreSearch } from './gallery-store';
import { openLanceStore } from './lancedb-store';
import { ModelMismatchError } from './model-mismatch-error';
import { writeNormalized } from './normalize-embedding';
import { filterToPredicate, quote, type SearchFilter } from './search-filter';
import type { GalleryHit, GalleryModel, TrackletRecord } from './tracklet-record';

/** The writer lock file inside a gallery directory. */
export const LOCK_FILE = 'writer.lock';

/** Options of `openGallery`. */
export interface OpenGalleryOptions {
  /**
   * The model whose embeddings will be added or searched. Required to create a gallery; when the gallery exists it
   * must be the same model (id and dimension), otherwise `ModelMismatchError`.
   */
  readonly model?: GalleryModel;
  /** `'read'` (default): search and count only, no lock. `'write'`: takes the directory's writer lock. */
  readonly mode?: 'read' | 'write';
  /** Says what the writer is doing, shown to a second writer that is refused. Default `"write"`. */
  readonly purpose?: string;
}

/** Options of one search. */
export interface GallerySearchOptions {
  /** Number of hits. Default 10. */
  readonly top?: number;
  readonly filter?: SearchFilter;
  /** Exact search over every row even when an approximate index exists. Default false. */
  readonly exact?: boolean;
  /** IVF partitions probed by approximate search. Default `DEFAULT_SEARCH.probes`. */
  readonly probes?: number;
  /** Approximate candidates re-scored exactly = top × refineFactor. Default `DEFAULT_SEARCH.refineFactor`. */
  readonly refineFactor?: number;
  /** The model the query embedding comes from; refused when it is not the gallery's. */
  readonly model?: GalleryModel;
}

/** What a gallery holds and how it is indexed. */
export interface GalleryStats {
  readonly count: number;
  readonly engine: string;
  readonly model: GalleryModel;
  /** The approximate index, if built: its type and the rows added since (searched exactly until re-indexed). */
  readonly index: { readonly type: string; readonly unindexedRows: number } | undefined;
  readonly diskBytes: number;
}

/** A gallery of tracklet embeddings on disk. */
export interface Gallery {
  readonly directory: string;
  readonly model: GalleryModel;
  readonly writable: boolean;
  /** Adds records (embeddings stored L2-normalised). @throws DuplicateKeyError for an id already stored. */
  add(records: readonly TrackletRecord[]): Promise<number>;
  /** Which of these tracklet ids are stored (for resuming an interrupted indexing run). */
  has(trackletIds: readonly string[]): Promise<Set<string>>;
  /** The `top` nearest tracklets to a query embedding [D], nearest first. */
  search(query: Float32Array | readonly number[], options?: GallerySearchOptions): Promise<GalleryHit[]>;
  /** Deletes the given tracklets and/or those matching a filter; returns how many were deleted. */
  delete(selection: { readonly trackletIds?: readonly string[]; readonly filter?: SearchFilter }): Promise<number>;
  count(filter?: SearchFilter): Promise<number>;
  /** Builds (or rebuilds) the approximate IVF-PQ index over every row; returns the settings used. */
  buildIndex(settings?: Partial<ApproximateIndexSettings>): Promise<ApproximateIndexSettings>;
  stats(): Promise<GalleryStats>;
  /** Releases the writer lock and the store. */
  close(): Promise<void>;
  /** @internal the store, for evaluation through the index. */
  readonly store: GalleryStore;
}

/** Search settings used when the caller gives none (chosen in tools/bench/gallery for recall@10 ≥ 0.95). */
export const DEFAULT_SEARCH = { top: 10, probes: 64, refineFactor: 10 } as const;

/**
 * Opens the gallery in `directory`, creating it when it does not exist (mode `'write'` with a `model`).
 * Never deletes or changes files it did not write: a non-empty directory that is not a gallery is refused.
 * @throws InvalidOptionError, ModelMismatchError, GalleryLockedError, GalleryCorruptError.
 */
export async function openGallery(directory: string, options: OpenGalleryOptions = {}): Promise<Gallery> {
  const mode = options.mode ?? 'read';
  if (mode !== 'read' && mode !== 'write') throw new InvalidOptionError('mode', mode, "Use 'read' or 'write'.");
  if (options.model !== undefined) validateModel(options.model);
  const resolved = path.resolve(directory);
  let manifest = readManifest(resolved);
  if (manifest === undefined) {
    if (mode === 'read') {
      throw new InvalidOptionError('db', directory, `Not a gallery (no ${MANIFEST_FILE}). Create one with vkd index.`);
    }
    if (options.model === undefined) {
      throw new InvalidOptionError('model', undefined, 'Creating a gallery needs the model (id and dimension).');
    }
    if (fs.existsSync(resolved) && fs.readdirSync(resolved).length > 0) {
      throw new InvalidOptionError(
        'db',
        directory,
        `The directory is not empty and holds no ${MANIFEST_FILE}: choose an empty or new directory for the gallery.`,
      );
    }
  } else if (options.model !== undefined && !sameModel(manifest.model, options.model)) {
    throw new ModelMismatchError(resolved, manifest.model, options.model);
  }
  let lock: AdvisoryLock | undefined;
  if (mode === 'write') {
    fs.mkdirSync(resolved, { recursive: true });
    const taken = await acquireAdvisoryLock(path.join(resolved, LOCK_FILE), options.purpose ?? 'write');
    if (!isHeldLock(taken)) throw new GalleryLockedError(resolved, taken);
    lock = taken;
  }
  try {
    if (manifest === undefined) {
      manifest = {
        format: 'vkd-gallery',
        version: 1,
        engine: 'lancedb',
        model: options.model as GalleryModel,
        createdAt: new Date().toISOString(),
      };
    }
    const store = await openLanceStore(resolved, { dimension: manifest.model.dimension, create: mode === 'write' });
    if (readManifest(resolved) === undefined) writeManifest(resolved, manifest);
    const nextPosition = mode === 'write' ? (await store.maxPosition()) + 1 : 0;
    return new DiskGallery(resolved, manifest.model, store, lock, nextPosition);
  } catch (error) {
    await lock?.release();
    throw error;
  }
}

class DiskGallery implements Gallery {
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(
    readonly directory: string,
    readonly model: GalleryModel,
    readonly store: GalleryStore,
    private readonly lock: AdvisoryLock | undefined,
    private nextPosition: number,
  ) {}

  get writable(): boolean {
    return this.lock !== undefined;
  }

  add(records: readonly TrackletRecord[]): Promise<number> {
    return this.serial(async () => {
      this.assertWritable('add');
      if (!Array.isArray(records)) throw new InvalidOptionError('records', records, 'Use an array of records.');
      if (records.length === 0) return 0;
      const dimension = this.model.dimension;
      const vectors = new Float32Array(records.length * dimension);
      const seen = new Set<string>();
      records.forEach((record, index) => {
        const where = `records[${index}]`;
        if (typeof record.trackletId !== 'string' || record.trackletId.length === 0) {
          throw new InvalidOptionError(`${where}.trackletId`, record.trackletId, 'Use a non-empty string.');
        }
        if (seen.has(record.trackletId)) throw new DuplicateKeyError('tracklet', record.trackletId);
        seen.add(record.trackletId);
        checkInteger(record.camera, `${where}.camera`);
        if (record.identity !== undefined) checkInteger(record.identity, `${where}.identity`);
        for (const key of ['startTime', 'endTime'] as const) {
          const value = record[key];
          if (value !== undefined && !Number.isFinite(value)) {
            throw new InvalidOptionError(`${where}.${key}`, value, 'Use a finite number or leave it out.');
          }
        }
        if (record.startTime !== undefined && record.endTime !== undefined && record.startTime > record.endTime) {
          throw new InvalidOptionError(`${where}.startTime`, record.startTime, 'startTime must not exceed endTime.');
        }
        if (!Array.isArray(record.framePaths) || record.framePaths.some((file: unknown) => typeof file !== 'string')) {
          throw new InvalidOptionError(`${where}.framePaths`, record.framePaths, 'Use an array of file paths.');
        }
        writeNormalized(record.embedding, dimension, vectors, index * dimension, `${where}.embedding`);
      });
      const existing = await this.store.existingTrackletIds([...seen]);
      const first = existing.values().next();
      if (!first.done) throw new DuplicateKeyError('tracklet', first.value);
      const positions = records.map((_, index) => this.nextPosition + index);
      await this.store.append({
        trackletIds: records.map((record) => record.trackletId),
        identities: records.map((record) => record.identity ?? null),
        cameras: records.map((record) => record.camera),
        startTimes: records.map((record) => record.startTime ?? null),
        endTimes: records.map((record) => record.endTime ?? null),
        framePaths: records.map((record) => record.framePaths),
        positions,
        vectors,
      });
      this.nextPosition += records.length;
      return records.length;
    });
  }

  has(trackletIds: readonly string[]): Promise<Set<string>> {
    return this.serial(() => this.store.existingTrackletIds(trackletIds));
  }

  search(query: Float32Array | readonly number[], options: GallerySearchOptions = {}): Promise<GalleryHit[]> {
    return this.serial(() => {
      if (options.model !== undefined && !sameModel(this.model, options.model)) {
        throw new ModelMismatchError(this.directory, this.model, options.model);
      }
      const vector = new Float32Array(this.model.dimension);
      writeNormalized(query, this.model.dimension, vector, 0, 'query');
      return this.store.search(vector, resolveSearch(options, filterToPredicate(options.filter)));
    });
  }

  delete(selection: { readonly trackletIds?: readonly string[]; readonly filter?: SearchFilter }): Promise<number> {
    return this.serial(() => {
      this.assertWritable('delete');
      const clauses: string[] = [];
      const predicate = filterToPredicate(selection.filter);
      if (predicate !== undefined) clauses.push(`(${predicate})`);
      if (selection.trackletIds !== undefined) {
        if (selection.trackletIds.length === 0) return Promise.resolve(0);
        clauses.push(`tracklet_id IN (${selection.trackletIds.map(quote).join(', ')})`);
      }
      if (clauses.length === 0) {
        throw new InvalidOptionError('selection', selection, 'Name trackletIds or a filter; nothing was deleted.');
      }
      return this.store.delete(clauses.join(' AND '));
    });
  }

  count(filter?: SearchFilter): Promise<number> {
    return this.serial(() => this.store.count(filterToPredicate(filter)));
  }

  buildIndex(settings: Partial<ApproximateIndexSettings> = {}): Promise<ApproximateIndexSettings> {
    return this.serial(async () => {
      this.assertWritable('buildIndex');
      const rows = await this.store.count();
      const resolved = resolveIndexSettings(settings, rows, this.model.dimension);
      await this.store.buildIndex(resolved);
      return resolved;
    });
  }

  stats(): Promise<GalleryStats> {
    return this.serial(async () => ({
      count: await this.store.count(),
      engine: this.store.engine,
      model: this.model,
      index: await this.store.indexInfo(),
      diskBytes: await this.store.diskBytes(),
    }));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.store.close();
    await this.lock?.release();
  }

  private assertWritable(operation: string): void {
    if (this.closed) throw new InvalidOptionError('gallery', this.directory, 'The gallery is closed.');
    if (this.lock === undefined) {
      throw new InvalidOptionError('mode', 'read', `${operation} needs a gallery opened with mode 'write'.`);
    }
  }

  private serial<T>(operation: () => Promise<T> | T): Promise<T> {
    const next = this.queue.then(operation, operation);
    this.queue = next.catch(() => undefined);
    return next;
  }
}

/** Fills search defaults and range-checks them. @throws InvalidOptionError naming the option. */
export function resolveSearch(options: GallerySearchOptions, predicate: string | undefined): StoreSearch {
  const limit = options.top ?? DEFAULT_SEARCH.top;
  checkPositive(limit, 'top', 100_000);
  const probes = options.probes ?? DEFAULT_SEARCH.probes;
  checkPositive(probes, 'probes', 65_536);
  const refineFactor = options.refineFactor ?? DEFAULT_SEARCH.refineFactor;
  checkPositive(refineFactor, 'refineFactor', 1_000);
  return { limit, predicate, exact: options.exact ?? false, probes, refineFactor };
}

/**
 * Index settings for `rows` vectors of dimension D: about √rows partitions (at least 1, at most 4,096, and no more
 * than rows / 40 so every partition trains on enough points) and D/16 sub-vectors (8 bits each, D/16 bytes a vector).
 */
export function resolveIndexSettings(
  settings: Partial<ApproximateIndexSettings>,
  rows: number,
  dimension: number,
): ApproximateIndexSettings {
  if (rows < 256) {
    throw new InvalidOptionError('rows', rows, 'An approximate index needs at least 256 tracklets; search exactly.');
  }
  const partitions = settings.partitions ?? Math.max(1, Math.min(4096, Math.round(Math.sqrt(rows)), (rows / 40) | 0));
  checkPositive(partitions, 'partitions', Math.max(1, Math.floor(rows / 2)));
  const defaultSubVectors = [16, 8, 4, 2, 1].map((width) => dimension / width).find(Number.isInteger) ?? 1;
  const subVectors = settings.subVectors ?? Math.max(1, dimension % 16 === 0 ? dimension / 16 : defaultSubVectors);
  checkPositive(subVectors, 'subVectors', dimension);
  if (dimension % subVectors !== 0) {
    throw new InvalidOptionError('subVectors', subVectors, `Use a divisor of the embedding dimension ${dimension}.`);
  }
  return { partitions, subVectors };
}

function validateModel(model: GalleryModel): void {
  if (typeof model !== 'object' || model === null || typeof model.modelId !== 'string' || model.modelId === '') {
    throw new InvalidOptionError('model.modelId', model?.modelId, 'Use a non-empty string naming the model.');
  }
  if (!Number.isInteger(model.dimension) || model.dimension < 1 || model.dimension > 65_536) {
    throw new InvalidOptionError('model.dimension', model.dimension, 'Use the embedding dimension, e.g. 2048.');
  }
}

function sameModel(a: GalleryModel, b: GalleryModel): boolean {
  return a.modelId === b.modelId && a.dimension === b.dimension;
}

function checkInteger(value: unknown, option: string): void {
  if (!Number.isSafeInteger(value)) throw new InvalidOptionError(option, value, 'Use an integer.');
}

function checkPositive(value: number, option: string, max: number): void {
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new InvalidOptionError(option, value, `Use an integer from 1 to ${max}.`);
  }
}
