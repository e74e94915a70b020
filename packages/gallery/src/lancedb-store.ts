import type { Connection, Table as LanceTable } from '@lancedb/lancedb';
import type { Data, DataType, FixedSizeList, Schema, Table } from 'apache-arrow';
import { loadArrow } from './arrow-module';
import { GalleryCorruptError } from './gallery-corrupt-error';
import type { ApproximateIndexSettings, GalleryStore, StoreLabels, StoreRows, StoreSearch } from './gallery-store';
import type { GalleryHit } from './tracklet-record';

/** The one table of a gallery directory. */
export const TRACKLET_TABLE = 'tracklets';

const METADATA_COLUMNS = ['tracklet_id', 'identity', 'camera', 'start_time', 'end_time', 'frame_paths', 'position'];

/** Arrow schema of the tracklet table for embeddings of dimension D. */
export function trackletSchema(dimension: number): Schema {
  const { Field, FixedSizeList, Float32, Float64, Int32, List, Schema, Utf8 } = loadArrow();
  return new Schema([
    new Field('tracklet_id', new Utf8(), false),
    new Field('identity', new Int32(), true),
    new Field('camera', new Int32(), false),
    new Field('start_time', new Float64(), true),
    new Field('end_time', new Float64(), true),
    new Field('frame_paths', new List(new Field('item', new Utf8(), true)), false),
    new Field('position', new Int32(), false),
    new Field('vector', new FixedSizeList(dimension, new Field('item', new Float32(), true)), false),
  ]);
}

/**
 * Opens (or creates) the LanceDB tracklet table in `directory`. LanceDB is loaded on first use, so importing
 * `@vkd/gallery` never loads the native addon.
 * @throws GalleryCorruptError when the table is missing (and `create` is false) or cannot be read.
 */
export async function openLanceStore(
  directory: string,
  options: { readonly dimension: number; readonly create: boolean },
): Promise<GalleryStore> {
  const lancedb = await import('@lancedb/lancedb');
  let connection: Connection;
  let table: LanceTable;
  try {
    connection = await lancedb.connect(directory);
    const names = await connection.tableNames();
    if (names.includes(TRACKLET_TABLE)) {
      table = await connection.openTable(TRACKLET_TABLE);
      await table.countRows();
    } else if (options.create) {
      table = await connection.createEmptyTable(TRACKLET_TABLE, trackletSchema(options.dimension));
    } else {
      throw new GalleryCorruptError(directory, `the table "${TRACKLET_TABLE}" is missing`);
    }
  } catch (error) {
    if (error instanceof GalleryCorruptError) throw error;
    throw new GalleryCorruptError(directory, `LanceDB cannot read it (${(error as Error).message})`, { cause: error });
  }
  // Batches are built with the table's own schema (as stored), which LanceDB checks field by field on add.
  const stored = (await table.schema()) as unknown as Schema;
  const vectorField = stored.fields.find((field) => field.name === 'vector');
  const storedDimension = (vectorField?.type as FixedSizeList | undefined)?.listSize;
  if (storedDimension !== options.dimension) {
    throw new GalleryCorruptError(
      directory,
      `its vectors have dimension ${String(storedDimension)} but gallery.json says ${options.dimension}`,
    );
  }
  return new LanceStore(directory, connection, table, stored, options.dimension, lancedb.Index);
}

class LanceStore implements GalleryStore {
  readonly engine = 'lancedb';

  constructor(
    private readonly directory: string,
    private readonly connection: Connection,
    private readonly table: LanceTable,
    private readonly schema: Schema,
    private readonly dimension: number,
    private readonly index: typeof import('@lancedb/lancedb').Index,
  ) {}

  async append(rows: StoreRows): Promise<void> {
    if (rows.trackletIds.length === 0) return;
    await this.table.add(this.toArrow(rows));
  }

  async search(query: Float32Array, search: StoreSearch): Promise<GalleryHit[]> {
    let builder = this.table
      .vectorSearch(query)
      .distanceType('cosine')
      .limit(search.limit)
      .select([...METADATA_COLUMNS, '_distance']);
    if (search.predicate !== undefined) builder = builder.where(search.predicate);
    builder = search.exact
      ? builder.bypassVectorIndex()
      : builder.nprobes(search.probes).refineFactor(search.refineFactor);
    const rows = (await builder.toArray()) as Record<string, unknown>[];
    return rows.map((row) => ({
      trackletId: row.tracklet_id as string,
      identity: row.identity === null ? undefined : (row.identity as number),
      camera: row.camera as number,
      startTime: row.start_time === null ? undefined : (row.start_time as number),
      endTime: row.end_time === null ? undefined : (row.end_time as number),
      framePaths: listToStrings(row.frame_paths),
      distance: row._distance as number,
      position: row.position as number,
    }));
  }

  async delete(predicate: string): Promise<number> {
    const before = await this.table.countRows(predicate);
    if (before > 0) await this.table.delete(predicate);
    return before;
  }

  count(predicate?: string): Promise<number> {
    return this.table.countRows(predicate);
  }

  async existingTrackletIds(trackletIds: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>();
    const chunk = 512;
    for (let start = 0; start < trackletIds.length; start += chunk) {
      const list = trackletIds
        .slice(start, start + chunk)
        .map((id) => `'${id.replaceAll("'", "''")}'`)
        .join(', ');
      const rows = await this.table.query().where(`tracklet_id IN (${list})`).select(['tracklet_id']).toArray();
      for (const row of rows) found.add((row as { tracklet_id: string }).tracklet_id);
    }
    return found;
  }

  async maxPosition(): Promise<number> {
    const { positions } = await this.labels();
    let max = -1;
    for (const position of positions) if (position > max) max = position;
    return max;
  }

  async labels(): Promise<StoreLabels> {
    const arrow = await this.table.query().select(['position', 'identity', 'camera']).toArrow();
    const count = arrow.numRows;
    const positions = new Int32Array(count);
    const identities = new Int32Array(count);
    const cameras = new Int32Array(count);
    const positionColumn = arrow.getChild('position');
    const identityColumn = arrow.getChild('identity');
    const cameraColumn = arrow.getChild('camera');
    for (let row = 0; row < count; row++) {
      positions[row] = positionColumn?.get(row) as number;
      const identity = identityColumn?.get(row) as number | null;
      identities[row] = identity ?? -1;
      cameras[row] = cameraColumn?.get(row) as number;
    }
    return { positions, identities, cameras };
  }

  async buildIndex(settings: ApproximateIndexSettings): Promise<void> {
    await this.table.createIndex('vector', {
      config: this.index.ivfPq({
        numPartitions: settings.partitions,
        numSubVectors: settings.subVectors,
        distanceType: 'cosine',
      }),
      replace: true,
    });
  }

  async indexInfo(): Promise<{ readonly type: string; readonly unindexedRows: number } | undefined> {
    const indices = await this.table.listIndices();
    const vectorIndex = indices.find((index) => index.columns.includes('vector'));
    if (vectorIndex === undefined) return undefined;
    // We only read counts: opt in to Lance's coming default of leaving the centroids out (also silences its warning).
    process.env.LANCE_INCLUDE_VECTOR_CENTROIDS ??= 'false';
    const stats = await this.table.indexStats(vectorIndex.name);
    return { type: stats?.indexType ?? vectorIndex.indexType, unindexedRows: stats?.numUnindexedRows ?? 0 };
  }

  async diskBytes(): Promise<number> {
    const { directoryBytes } = await import('./directory-bytes');
    return directoryBytes(this.directory);
  }

  close(): void {
    this.table.close();
    this.connection.close();
  }

  private toArrow(rows: StoreRows): Table {
    const { Field, Float32, Float64, Int32, List, RecordBatch, Struct, Table, Utf8, makeData, vectorFromArray } =
      loadArrow();
    const count = rows.trackletIds.length;
    const vectorType = this.schema.fields[7]?.type as FixedSizeList;
    const vectors = makeData({
      type: vectorType,
      length: count,
      nullCount: 0,
      child: makeData({ type: new Float32(), length: count * this.dimension, data: rows.vectors }),
    });
    const children: Data<DataType>[] = [
      chunk(vectorFromArray(rows.trackletIds as string[], new Utf8())),
      chunk(vectorFromArray(rows.identities as (number | null)[], new Int32())),
      makeData({ type: new Int32(), length: count, data: Int32Array.from(rows.cameras) }),
      chunk(vectorFromArray(rows.startTimes as (number | null)[], new Float64())),
      chunk(vectorFromArray(rows.endTimes as (number | null)[], new Float64())),
      chunk(vectorFromArray(rows.framePaths as string[][], new List(new Field('item', new Utf8(), true)))),
      makeData({ type: new Int32(), length: count, data: Int32Array.from(rows.positions) }),
      vectors,
    ];
    const struct = makeData({ type: new Struct(this.schema.fields), length: count, nullCount: 0, children });
    return new Table([new RecordBatch(this.schema, struct)]);
  }
}

/** The single chunk of a vector built from one array. */
function chunk(vector: { readonly data: readonly Data<DataType>[] }): Data<DataType> {
  const [only, ...rest] = vector.data;
  if (only === undefined || rest.length > 0) throw new Error('internal: expected a one-chunk Arrow vector');
  return only;
}

function listToStrings(value: unknown): string[] {
  if (value === null || value === undefined) return [];
  if (Array.isArray(value)) return value as string[];
  const list = value as { toArray(): unknown[] };
  return Array.from(list.toArray(), (item) => String(item));
}
