import fs from 'node:fs';
import path from 'node:path';
import { parseStrictJson } from '@vkd/core';
import { GalleryCorruptError } from './gallery-corrupt-error';
import type { GalleryModel } from './tracklet-record';

/** The file that makes a directory a gallery: which model, which engine. */
export const MANIFEST_FILE = 'gallery.json';

/** Content of `gallery.json`. */
export interface GalleryManifest {
  readonly format: 'vkd-gallery';
  readonly version: 1;
  readonly engine: string;
  readonly model: GalleryModel;
  readonly createdAt: string;
}

/** Reads `gallery.json`, or undefined when the directory has none. @throws GalleryCorruptError when unreadable. */
export function readManifest(directory: string): GalleryManifest | undefined {
  const file = path.join(directory, MANIFEST_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new GalleryCorruptError(directory, `${MANIFEST_FILE} cannot be read (${(error as Error).message})`);
  }
  let parsed: Partial<GalleryManifest>;
  try {
    parsed = parseStrictJson(text) as Partial<GalleryManifest>;
  } catch (error) {
    throw new GalleryCorruptError(directory, `${MANIFEST_FILE} is not valid JSON (${(error as Error).message})`);
  }
  const model = parsed.model;
  if (
    parsed.format !== 'vkd-gallery' ||
    parsed.version !== 1 ||
    typeof parsed.engine !== 'string' ||
    typeof model !== 'object' ||
    model === null ||
    typeof model.modelId !== 'string' ||
    !Number.isInteger(model.dimension) ||
    model.dimension < 1
  ) {
    throw new GalleryCorruptError(
      directory,
      `${MANIFEST_FILE} is not a version-1 gallery manifest (format, engine, model.modelId, model.dimension)`,
    );
  }
  return parsed as GalleryManifest;
}

/** Writes `gallery.json` through a temporary file and a rename, so a crash leaves the old file or none. */
export function writeManifest(directory: string, manifest: GalleryManifest): void {
  const file = path.join(directory, MANIFEST_FILE);
  const temporary = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(temporary, `${JSON.stringify(manifest, null, 2)}\n`);
  fs.renameSync(temporary, file);
}
