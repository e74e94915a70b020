import { resolve } from 'node:path';
import { openGallery } from '@vkd/gallery';
import { createEvaluationLoader } from '@vkd/datasets/node';
import { loadReidModel } from '@vkd/models';
import { extractFeatures } from '@vkd/trainer';
import type { CommandDefinition } from '../cli/command';
import { DATA_OPTIONS, GENERAL_OPTIONS, LOADER_OPTIONS } from '../config/option-groups';
import { dataSettings } from '../config/stage-settings';
import { requireOption } from '../options/resolve-options';
import { activateDevice } from '../run/activate-device';
import { findModelDirectory } from '../run/find-model-directory';
import { galleryModelOf } from '../run/gallery-model';
import { GALLERY_SPLITS, galleryRecords, splitTracklets, trackletId, type GallerySplit } from '../run/gallery-records';
import { loadRunDataset } from '../run/load-run-dataset';
import { modelInputSize, readModelMetadata } from '../run/model-input';
import { createRunLog, displayPath } from '../run/run-log';

/** Tracklets extracted and appended per step: a kill loses at most this many (the rerun skips what is stored). */
const TRACKLETS_PER_APPEND = 256;

/** `vkd index`: extracts tracklet embeddings of a dataset split and appends them to a gallery database. */
export const indexCommand: CommandDefinition = {
  name: 'index',
  summary: 'extract embeddings of a dataset split and append them to a gallery database (LanceDB, resumable)',
  usage: '--model DIR --dataset NAME --root DIR --db DIR [--split gallery|query|test|train] [--no-build-index]',
  details: [
    'Each tracklet is stored with its identity, camera and frame paths (id: split + first frame relative to the root),',
    'as a pre-BNNeck set embedding over chunk-first test frames, the same features vkd evaluate ranks. Tracklets are',
    `appended ${TRACKLETS_PER_APPEND} at a time; running the same command again after an interruption skips those`,
    'already stored. The database records the model (a hash of its files) and refuses embeddings of another model.',
    'At the end an IVF-PQ index is (re)built when the gallery holds at least 256 tracklets.',
  ].join('\n'),
  examples: ['vkd index --model runs/mars-student --preset mars-resnet50 --root ./datasets/mars --db galleries/mars'],
  stage: 'evaluate',
  options: [
    ...GENERAL_OPTIONS,
    ...DATA_OPTIONS,
    ...LOADER_OPTIONS,
    {
      key: 'model',
      kind: 'path',
      placeholder: 'dir',
      description: 'model directory, or a run directory holding model/',
    },
    { key: 'db', kind: 'path', placeholder: 'dir', description: 'gallery database directory (created if new)' },
    {
      key: 'split',
      kind: 'choice',
      choices: GALLERY_SPLITS,
      default: 'gallery',
      description: 'which tracklets to index (test = query + gallery)',
    },
    {
      key: 'buildIndex',
      kind: 'boolean',
      default: true,
      description: 'build the approximate IVF-PQ index at the end (--no-build-index: search exactly)',
    },
  ],
  async run({ options, io, explicit }) {
    const log = createRunLog(io, options.quiet as boolean);
    const modelDirectory = requireOption<string>(
      options,
      'model',
      '--model',
      'pass the model whose embeddings to index, e.g. --model runs/student.',
    );
    const db = requireOption<string>(
      options,
      'db',
      '--db',
      'pass the gallery database directory, e.g. --db galleries/mars.',
    );
    const given = dataSettings(options);
    const dataset = await loadRunDataset(given.dataset, given.root, given);
    const modelPath = await findModelDirectory(modelDirectory, '--model');
    const data = modelInputSize(given, options, explicit, await readModelMetadata(modelPath), '--model', log);
    const items = splitTracklets(dataset, options.split as GallerySplit);
    const root = resolve(io.cwd, data.root);
    await activateDevice(options.device as string, log, options.threads as number | undefined);
    const model = await loadReidModel(modelPath);
    const gallery = await openGallery(resolve(io.cwd, db), {
      model: await galleryModelOf(modelPath, model, data),
      mode: 'write',
      purpose: `vkd index --db ${db}`,
    });
    try {
      const stored = await gallery.has(items.map(({ tracklet, split }) => trackletId(root, split, tracklet)));
      const todo = items.filter(({ tracklet, split }) => !stored.has(trackletId(root, split, tracklet)));
      log.info(
        `indexing ${todo.length} ${options.split as string} tracklets of ${data.dataset} into ${displayPath(io.cwd, db)}` +
          (stored.size > 0 ? ` (${stored.size} already there, skipped)` : ''),
      );
      const bar = log.progress('index', todo.length * data.testFrames, 'img');
      for (let start = 0; start < todo.length; start += TRACKLETS_PER_APPEND) {
        const chunk = todo.slice(start, start + TRACKLETS_PER_APPEND);
        const extracted = await extractFeatures(
          model,
          createEvaluationLoader(
            chunk.map((item) => item.tracklet),
            {
              framesPerTracklet: data.testFrames,
              trackletsPerBatch: data.testBatch,
              imageSize: [data.height, data.width],
              workers: data.workers,
              prefetch: data.prefetch,
            },
          ),
          { onBatch: ({ frames }) => bar.tick(frames, frames) },
        );
        const ordered = Array.from(extracted.trackletIndices, (index) => chunk[index] as (typeof chunk)[number]);
        await gallery.add(galleryRecords(root, ordered, extracted.features, extracted.dim));
      }
      bar.done();
      const count = await gallery.count();
      if (options.buildIndex === true && count >= 256) {
        log.info(`building the IVF-PQ index over ${count} tracklets`);
        const settings = await gallery.buildIndex();
        log.info(`index: ${settings.partitions} partitions, ${settings.subVectors} PQ sub-vectors`);
      } else if (options.buildIndex === true) {
        log.info(`no approximate index: ${count} tracklets are searched exactly (an index needs at least 256)`);
      }
      const stats = await gallery.stats();
      log.result(
        `gallery: ${displayPath(io.cwd, db)} holds ${stats.count} tracklets of model ${stats.model.modelId} ` +
          `(D = ${stats.model.dimension}, ${(stats.diskBytes / 2 ** 20).toFixed(1)} MiB` +
          `${stats.index ? `, ${stats.index.type} index` : ', no index'})`,
      );
      return 0;
    } finally {
      await gallery.close();
      model.dispose();
    }
  },
};
