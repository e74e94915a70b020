import { InvalidOptionError } from '@vkd/core';

/** Restricts a search to part of the gallery. Every field is optional; all given fields must hold. */
export interface SearchFilter {
  /** Only these cameras. */
  readonly cameras?: readonly number[];
  /** Never these cameras ("other cameras only": pass the query's camera). */
  readonly excludeCameras?: readonly number[];
  /** Only these identities (records without an identity never match). */
  readonly identities?: readonly number[];
  /** Only tracklets overlapping this time window, inclusive: endTime >= from and startTime <= to. */
  readonly timeWindow?: { readonly from?: number; readonly to?: number };
  /** Never these tracklet ids. */
  readonly excludeTrackletIds?: readonly string[];
}

/**
 * Turns a filter into a SQL predicate for the store. Values are checked (integers, finite numbers) and strings are
 * quoted, so no caller text reaches the predicate unescaped.
 * @returns the predicate, or undefined for no filter. @throws InvalidOptionError naming the field.
 */
export function filterToPredicate(filter: SearchFilter | undefined): string | undefined {
  if (filter === undefined) return undefined;
  const clauses: string[] = [];
  if (filter.cameras !== undefined) clauses.push(`camera IN (${integerList(filter.cameras, 'filter.cameras')})`);
  if (filter.excludeCameras !== undefined && filter.excludeCameras.length > 0) {
    clauses.push(`camera NOT IN (${integerList(filter.excludeCameras, 'filter.excludeCameras')})`);
  }
  if (filter.identities !== undefined) {
    clauses.push(`identity IN (${integerList(filter.identities, 'filter.identities')})`);
  }
  const window = filter.timeWindow;
  if (window !== undefined) {
    if (window.from !== undefined) clauses.push(`end_time >= ${finite(window.from, 'filter.timeWindow.from')}`);
    if (window.to !== undefined) clauses.push(`start_time <= ${finite(window.to, 'filter.timeWindow.to')}`);
    if (window.from !== undefined && window.to !== undefined && window.from > window.to) {
      throw new InvalidOptionError('filter.timeWindow', `${window.from}..${window.to}`, 'Use from <= to.');
    }
  }
  if (filter.excludeTrackletIds !== undefined && filter.excludeTrackletIds.length > 0) {
    clauses.push(`tracklet_id NOT IN (${filter.excludeTrackletIds.map(quote).join(', ')})`);
  }
  return clauses.length === 0 ? undefined : clauses.join(' AND ');
}

/** A SQL string literal (single quotes doubled). */
export function quote(value: string): string {
  if (typeof value !== 'string') throw new InvalidOptionError('trackletId', value, 'Use a string.');
  return `'${value.replaceAll("'", "''")}'`;
}

function integerList(values: readonly number[], option: string): string {
  if (!Array.isArray(values) || values.length === 0 || values.some((value) => !Number.isSafeInteger(value))) {
    throw new InvalidOptionError(option, values, 'Use a non-empty array of integers.');
  }
  return values.join(', ');
}

function finite(value: number, option: string): string {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new InvalidOptionError(option, value, 'Use a finite number.');
  }
  return String(value);
}
