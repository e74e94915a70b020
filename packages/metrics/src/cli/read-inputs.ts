import fs from 'node:fs';
import { DatasetNotFoundError, FileFormatError } from '@vkd/core';
import { readNpy } from '../npy';

/** A missing input file of the command line: a DatasetNotFoundError whose message names the file and the option. */
class InputFileNotFoundError extends DatasetNotFoundError {
  constructor(file: string, option: string) {
    super(file, [file]);
    this.message = `${file}: no such file (the file given to ${option}).`;
  }
}

/**
 * Reads a file, or throws DatasetNotFoundError naming it and the option it came from, or FileFormatError when the
 * path is a directory or cannot be read.
 */
function readFile(file: string, option: string): Uint8Array {
  if (!fs.existsSync(file)) throw new InputFileNotFoundError(file, option);
  if (fs.statSync(file).isDirectory()) throw new FileFormatError(file, `is a directory; ${option} takes a file.`);
  try {
    return fs.readFileSync(file);
  } catch (error) {
    throw new FileFormatError(file, `cannot be read (${(error as Error).message}); it was given to ${option}.`, {
      cause: error,
    });
  }
}

/**
 * Reads a float feature matrix [n, D] from a `.npy` file (float32 or float64, C order).
 * @returns row-major float32 features and D.
 * @throws FileFormatError for a wrong dtype or rank, DatasetNotFoundError for a missing file.
 */
export function readFeatures(file: string, option: string): { features: Float32Array; dim: number; rows: number } {
  const array = readNpy(readFile(file, option), file);
  if (array.shape.length !== 2)
    throw new FileFormatError(file, `${option} must be a 2-D [n, D] array, found shape (${array.shape.join(', ')}).`);
  if (!(array.data instanceof Float32Array || array.data instanceof Float64Array)) {
    throw new FileFormatError(file, `${option} must be float32 or float64, found dtype '${array.dtype}'.`);
  }
  const features = array.data instanceof Float32Array ? array.data : Float32Array.from(array.data);
  return { features, rows: array.shape[0] as number, dim: array.shape[1] as number };
}

/** Reads a float [Q, G] distance matrix from a `.npy` file. */
export function readDistances(
  file: string,
  option: string,
): { distances: Float32Array | Float64Array; rows: number; cols: number } {
  const array = readNpy(readFile(file, option), file);
  if (array.shape.length !== 2 || !(array.data instanceof Float32Array || array.data instanceof Float64Array)) {
    throw new FileFormatError(
      file,
      `${option} must be a 2-D float32/float64 [Q, G] array, found '${array.dtype}' (${array.shape.join(', ')}).`,
    );
  }
  return { distances: array.data, rows: array.shape[0] as number, cols: array.shape[1] as number };
}

const INTEGER = /^[+-]?\d+$/;

/**
 * A header line of a one-column label file: a name (`camera`, `pid`, `label id`), never something that starts like a
 * number (`12x`, `1.5`, `-`, `+3`) or reads as one (`NaN`, `Infinity`), which is a malformed first value instead.
 */
const COLUMN_NAME = /^(?!(?:nan|inf|infinity)$)[a-z_][\w .-]*$/i;

/**
 * Reads integer labels: a 1-D integer `.npy` file, or a text/CSV file with one integer per line (an optional first
 * line that is a column name, e.g. `camera`, is a header; anything else that is not an integer, on any line, is an
 * error naming file:line; blank lines are errors, never skipped silently).
 */
export function readLabelColumn(file: string, option: string): Int32Array {
  const bytes = readFile(file, option);
  if (file.endsWith('.npy')) {
    const array = readNpy(bytes, file);
    if (array.shape.length !== 1)
      throw new FileFormatError(file, `${option} must be a 1-D array, found shape (${array.shape.join(', ')}).`);
    if (array.data instanceof Float32Array || array.data instanceof Float64Array) {
      throw new FileFormatError(file, `${option} must have an integer dtype, found '${array.dtype}'.`);
    }
    const values = Array.from(array.data as ArrayLike<number | bigint>, Number);
    values.forEach((value, i) => {
      if (!Number.isSafeInteger(value) || Math.abs(value) > 2147483647)
        throw new FileFormatError(file, `element ${i} (${value}) does not fit in int32.`);
    });
    return Int32Array.from(values);
  }
  const lines = splitLines(bytes);
  const start = lines.length > 0 && COLUMN_NAME.test((lines[0] as string).trim()) ? 1 : 0;
  return Int32Array.from(lines.slice(start), (line, i) => parseInteger(line.trim(), file, start + i + 1, option));
}

const IDENTITY_COLUMNS = ['identity', 'pid', 'id'];
const CAMERA_COLUMNS = ['camera', 'camid', 'cam'];

/**
 * The one header column named by one of `names`; an error naming the file and option when none or several are
 * (`id,pid,camid` with a row index in `id`: taking the first would rank by the wrong labels).
 */
function labelColumn(header: readonly string[], names: readonly string[], kind: string, file: string, option: string) {
  const found = header.flatMap((name, index) => (names.includes(name) ? [index] : []));
  if (found.length > 1) {
    const listed = found.map((index) => `"${header[index]}"`).join(', ');
    throw new FileFormatError(
      file,
      `${option}: the header names ${found.length} ${kind} columns (${listed}); keep one of ${names.join('|')} and rename or remove the others.`,
      { line: 1 },
    );
  }
  return found[0] ?? -1;
}

/**
 * Reads identities and cameras from one CSV file whose header names one identity column (`identity`, `pid`, `id`)
 * and one camera column (`camera`, `camid`, `cam`); other columns are ignored. Cells are split at every comma (no
 * quoting).
 */
export function readLabelTable(file: string, option: string): { identities: Int32Array; cameras: Int32Array } {
  const lines = splitLines(readFile(file, option));
  const header = (lines[0] ?? '').split(',').map((name) => name.trim().toLowerCase());
  const identityColumn = labelColumn(header, IDENTITY_COLUMNS, 'identity', file, option);
  const cameraColumn = labelColumn(header, CAMERA_COLUMNS, 'camera', file, option);
  if (identityColumn < 0 || cameraColumn < 0) {
    throw new FileFormatError(
      file,
      `${option}: the header must name an identity column (${IDENTITY_COLUMNS.join('|')}) and a camera column (${CAMERA_COLUMNS.join('|')}); found "${lines[0] ?? ''}".`,
      { line: 1 },
    );
  }
  const rows = lines.slice(1);
  const identities = new Int32Array(rows.length);
  const cameras = new Int32Array(rows.length);
  rows.forEach((row, i) => {
    const cells = row.split(',');
    if (cells.length !== header.length)
      throw new FileFormatError(
        file,
        `${option}: expected ${header.length} comma-separated cells as in the header, found ${cells.length} (quoted fields are not supported: a comma always separates cells).`,
        { line: i + 2 },
      );
    identities[i] = parseInteger((cells[identityColumn] as string).trim(), file, i + 2, option);
    cameras[i] = parseInteger((cells[cameraColumn] as string).trim(), file, i + 2, option);
  });
  return { identities, cameras };
}

function splitLines(bytes: Uint8Array): string[] {
  const lines = new TextDecoder().decode(bytes).split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop(); // the final newline
  return lines;
}

function parseInteger(text: string, file: string, line: number, option: string): number {
  if (!INTEGER.test(text)) throw new FileFormatError(file, `${option}: "${text}" is not an integer.`, { line });
  const value = Number(text);
  if (Math.abs(value) > 2147483647)
    throw new FileFormatError(file, `${option}: ${text} does not fit in int32.`, { line });
  return value;
}
