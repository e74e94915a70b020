import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { InvalidOptionError } from '@vkd/core';
import { openGallery, type GalleryHit, type SearchFilter } from '@vkd/gallery';
import { createEvaluationLoader } from '@vkd/datasets/node';
import { loadReidModel } from '@vkd/models';
import { extractFeatures } from '@vkd/trainer';
import type { CommandDefinition } from '../cli/command';
import { GENERAL_OPTIONS, LOADER_OPTIONS } from '../config/option-groups';
import { loaderSettings } from '../config/stage-settings';
import { requireOption } from '../options/resolve-options';
import { writeRankedGrid } from '../report/ranked-grid';
import { activateDevice } from '../run/activate-device';
import { findModelDirectory } from '../run/find-model-directory';
import { galleryModelOf } from '../run/gallery-model';
import { readModelMetadata } from '../run/model-input';
import { createRunLog, displayPath } from '../run/run-log';

/** Files `vkd search --out DIR` writes. */
export const SEARCH_FILES = { results: 'search.json', picture: 'search.png' } as const;

/** The ranked hits as a text table. */
export function formatHits(hits: readonly GalleryHit[], queryIdentity: number | undefined): string {
  const header = ['rank', 'distance', 'identity', 'camera', 'tracklet', 'first frame'];
  const rows = hits.map((hit, index) => [
    String(index + 1),
    hit.distance.toFixed(4),
    `${hit.identity ?? '-'}${queryIdentity !== undefined && hit.identity === queryIdentity ? ' ✓' : ''}`,
    `C${hit.camera + 1}`,
    hit.trackletId,
    hit.framePaths[0] ?? '',
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

/** `vkd search`: the gallery tracklets nearest to a query made of one or more images. */
export const searchCommand: CommandDefinition = {
  name: 'search',
  summary: 'find the gallery tracklets nearest to query images in a gallery database built by vkd index',
  usage: '--db DIR --model DIR --image FILE [FILE…] [--top K] [--exclude-camera N] [--out DIR [--ranked]]',
  details: [
    'The query images form one tracklet (its set embedding is the mean over them, as in evaluation); the model must be',
    'the one the gallery was indexed with (refused otherwise, naming both). Cameras are numbered from 1 as printed',
    '(C1 = camera index 0). With --out writes OUT/search.json and, with --ranked, OUT/search.png (query, then the hits;',
    'green/red borders when --identity names the query identity, grey otherwise, distances under each).',
  ].join('\n'),
  examples: [
    'vkd search --db galleries/mars --model runs/mars-student --image q/0001C1T0001F001.jpg --top 10 --exclude-camera 1',
  ],
  positionals: { min: 0, max: 63, names: '[FILE…] (more query images)' },
  options: [
    ...GENERAL_OPTIONS.filter((option) => option.key !== 'seed'),
    ...LOADER_OPTIONS,
    { key: 'db', kind: 'path', placeholder: 'dir', description: 'gallery database directory (vkd index)' },
    { key: 'model', kind: 'path', placeholder: 'dir', description: 'model directory the gallery was indexed with' },
    { key: 'image', kind: 'path', placeholder: 'file', description: 'query image (more as further arguments)' },
    { key: 'top', kind: 'integer', min: 1, max: 1000, default: 10, description: 'number of hits' },
    {
      key: 'excludeCamera',
      kind: 'integer',
      min: 1,
      max: 1000,
      placeholder: 'n',
      description: 'leave out tracklets of camera Cn (e.g. the query camera: other cameras only)',
    },
    {
      key: 'identity',
      kind: 'integer',
      placeholder: 'id',
      description: 'the query identity, when known: marks correct hits',
    },
    {
      key: 'exact',
      kind: 'boolean',
      default: false,
      description: 'scan every tracklet instead of the approximate index',
    },
    {
      key: 'out',
      alias: 'o',
      kind: 'path',
      placeholder: 'dir',
      description: 'write search.json (and search.png with --ranked) here',
    },
    {
      key: 'ranked',
      kind: 'boolean',
      default: false,
      description: 'with --out: draw the query and its hits as OUT/search.png',
    },
  ],
  async run({ options, positionals, io }) {
    const log = createRunLog(io, options.quiet as boolean);
    const db = requireOption<string>(options, 'db', '--db', 'pass the gallery database, e.g. --db galleries/mars.');
    const modelDirectory = requireOption<string>(
      options,
      'model',
      '--model',
      'pass the model the gallery was indexed with.',
    );
    const first = requireOption<string>(
      options,
      'image',
      '--image',
      'pass one or more query images, e.g. --image q1.jpg q2.jpg.',
    );
    const images = [first, ...positionals].map((file) => resolve(io.cwd, file));
    for (const image of images) {
      const info = await stat(image).catch(() => undefined);
      if (!info?.isFile()) throw new InvalidOptionError('--image', image, 'Not a file: pass existing image files.');
    }
    if (options.ranked === true && options.out === undefined) {
      throw new InvalidOptionError('--ranked', true, 'The picture goes into --out DIR; pass --out.');
    }
    const modelPath = await findModelDirectory(modelDirectory, '--model');
    const metadata = await readModelMetadata(modelPath);
    const gallery = await openGallery(resolve(io.cwd, db));
    try {
      const input = gallery.model.inputSettings as { height?: number; width?: number } | undefined;
      const height = metadata?.input.height ?? input?.height ?? 256;
      const width = metadata?.input.width ?? input?.width ?? 128;
      await activateDevice(options.device as string, log, options.threads as number | undefined);
      const model = await loadReidModel(modelPath);
      let hits: GalleryHit[];
      try {
        const queryModel = await galleryModelOf(modelPath, model, { height, width, testFrames: images.length });
        const query = await extractFeatures(
          model,
          createEvaluationLoader([{ frames: images, identity: -1, camera: -1 }], {
            framesPerTracklet: images.length,
            trackletsPerBatch: 1,
            imageSize: [height, width],
            ...loaderSettings(options),
          }),
        );
        const filter: SearchFilter =
          options.excludeCamera === undefined ? {} : { excludeCameras: [(options.excludeCamera as number) - 1] };
        hits = await gallery.search(query.features, {
          top: options.top as number,
          filter,
          exact: options.exact === true,
          model: queryModel,
        });
      } finally {
        model.dispose();
      }
      const identity = options.identity as number | undefined;
      log.result(`${hits.length} nearest of ${await gallery.count()} tracklets in ${displayPath(io.cwd, db)}:`);
      log.result(formatHits(hits, identity));
      if (options.out !== undefined) {
        const out = resolve(io.cwd, options.out as string);
        await mkdir(out, { recursive: true });
        const results = join(out, SEARCH_FILES.results);
        await writeFile(
          results,
          `${JSON.stringify({ query: { images, identity }, db: resolve(io.cwd, db), model: gallery.model, hits }, null, 2)}\n`,
        );
        log.result(`results: ${displayPath(io.cwd, results)}`);
        if (options.ranked === true) {
          const picture = join(out, SEARCH_FILES.picture);
          await writeRankedGrid(
            [
              {
                queryFrames: images.slice(0, 4),
                label: identity === undefined ? 'query' : `query id ${identity}`,
                results: hits
                  .filter((hit) => hit.framePaths[0] !== undefined)
                  .map((hit) => ({
                    frame: hit.framePaths[0] as string,
                    distance: hit.distance,
                    correct: identity === undefined ? undefined : hit.identity === identity,
                  })),
              },
            ],
            picture,
          );
          log.result(`ranked results: ${displayPath(io.cwd, picture)}`);
        }
      }
      return 0;
    } finally {
      await gallery.close();
    }
  },
};
