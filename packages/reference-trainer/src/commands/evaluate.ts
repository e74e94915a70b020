import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { InvalidOptionError } from '@vkd/core';
import { loadReidModel } from '@vkd/models';
import type { CommandDefinition } from '../cli/command';
import { DATA_OPTIONS, GENERAL_OPTIONS, LOADER_OPTIONS, OUTPUT_OPTIONS } from '../config/option-groups';
import { dataSettings } from '../config/stage-settings';
import { requireOption } from '../options/resolve-options';
import { formatModelTable, formatPerCamera } from '../report/comparison-table';
import { activateDevice } from '../run/activate-device';
import { evaluateRunWithFeatures } from '../run/evaluate-run';
import { protocolFeatures } from '../run/evaluation-features';
import { writeRankedResults } from '../run/ranked-results';
import { rerankEvaluation } from '../run/rerank-evaluation';
import { saveFeatures } from '../run/save-features';
import { evaluateThroughGalleryDb, formatGalleryDbTable } from '../run/gallery-evaluation';
import { findModelDirectory } from '../run/find-model-directory';
import { modelInputSize, readModelMetadata } from '../run/model-input';
import { RUN_FILES, writeMetrics } from '../run/run-files';
import { loadRunDataset } from '../run/load-run-dataset';
import { createRunLog, displayPath } from '../run/run-log';

/** `vkd evaluate`: retrieval metrics of a saved model (VKD protocols). */
export const evaluateCommand: CommandDefinition = {
  name: 'evaluate',
  summary: 'evaluate a saved model: I2V and V2V rank-k, mAP, mINP, CMC, gallery-frames sweep, per-camera accuracy',
  usage:
    '--model DIR --dataset NAME --root DIR [--out DIR] [--ranked N] [--save-features DIR] [--rerank] [--gallery-db DIR]',
  details: [
    'Cosine distance between pre-BNNeck set embeddings (mean over chunk-first frames), same-identity-same-camera',
    'gallery items junked; mAP (non-interpolated) and mAPTrapezoid (the official MARS code). With --out writes',
    'OUT/metrics.json and, with --ranked N, OUT/ranked-<protocol>.png; --save-features DIR writes what vkd-metrics reads.',
  ].join('\n'),
  examples: [
    'vkd evaluate --model runs/mars-student --preset mars-resnet50 --root ./datasets/mars --out runs/mars-student/eval',
  ],
  stage: 'evaluate',
  options: [
    ...GENERAL_OPTIONS,
    ...OUTPUT_OPTIONS,
    ...DATA_OPTIONS,
    ...LOADER_OPTIONS,
    {
      key: 'model',
      kind: 'path',
      placeholder: 'dir',
      description: 'model directory, or a run directory holding model/',
    },
    {
      key: 'galleryFrames',
      kind: 'integer-list',
      min: 1,
      default: [1, 2, 4, 8],
      description: 'gallery-frames sweep (paper Fig. 3); empty to skip',
    },
    {
      key: 'ranked',
      kind: 'integer',
      min: 0,
      max: 100,
      default: 0,
      description:
        'write OUT/ranked-<protocol>.png: the N worst queries (lowest AP) and their top-ranked gallery tracklets',
    },
    {
      key: 'rankedQueries',
      kind: 'integer-list',
      min: 0,
      placeholder: 'i,j,…',
      description: 'draw these query indices instead of the worst ones (with --ranked or alone)',
    },
    {
      key: 'rankedTop',
      kind: 'integer',
      min: 1,
      max: 50,
      default: 10,
      description: 'gallery tracklets per ranked-results row',
    },
    {
      key: 'saveFeatures',
      kind: 'path',
      placeholder: 'dir',
      description: 'write query/gallery features (.npy) and labels (.csv) that vkd-metrics reads',
    },
    {
      key: 'galleryDb',
      kind: 'path',
      placeholder: 'dir',
      description:
        'also rank the I2V/V2V queries through this gallery database (vkd index of the gallery split), exact results alongside',
    },
    {
      key: 'rerank',
      kind: 'boolean',
      default: false,
      description: 'also report k-reciprocal re-ranked metrics (k1 20, k2 6, λ 0.3; @vkd/metrics reRank)',
    },
  ],
  async run({ options, io, explicit }) {
    const log = createRunLog(io, options.quiet as boolean);
    const modelDirectory = requireOption<string>(
      options,
      'model',
      '--model',
      'pass the model directory (or a run directory holding model/) to evaluate, e.g. --model runs/student.',
    );
    const rankedQueries = (options.rankedQueries as readonly number[] | undefined) ?? [];
    const ranked = (options.ranked as number) > 0 || rankedQueries.length > 0;
    const saveDirectory = options.saveFeatures as string | undefined;
    const out = options.out as string | undefined;
    if (ranked && !out)
      throw new InvalidOptionError(
        '--ranked',
        options.ranked,
        'The ranked-results pictures go into --out DIR; pass --out.',
      );
    // --out is a directory: a file there would fail only after the whole evaluation.
    if (
      out &&
      (await stat(out).then(
        (info) => !info.isDirectory(),
        () => false,
      ))
    ) {
      throw new InvalidOptionError(
        '--out',
        out,
        'It is a file; --out takes a directory (metrics.json is written into it).',
      );
    }
    // The user's paths first: a mistyped --root or --model fails at once, before the backend is probed.
    const given = dataSettings(options);
    const dataset = await loadRunDataset(given.dataset, given.root, given);
    const modelPath = await findModelDirectory(modelDirectory, '--model');
    const data = modelInputSize(given, options, explicit, await readModelMetadata(modelPath), '--model', log);
    const device = await activateDevice(options.device as string, log, options.threads as number | undefined);
    const model = await loadReidModel(modelPath);
    try {
      const galleryDb = options.galleryDb as string | undefined;
      const keepFeatures = ranked || saveDirectory !== undefined || options.rerank === true || galleryDb !== undefined;
      const evaluation = await evaluateRunWithFeatures(
        model,
        dataset,
        data,
        log,
        'model',
        options.galleryFrames as readonly number[],
        keepFeatures,
      );
      const pairs = keepFeatures ? protocolFeatures(evaluation.report) : [];
      const reranked = options.rerank === true ? rerankEvaluation(pairs, dataset) : undefined;
      const throughIndex =
        galleryDb === undefined
          ? undefined
          : await evaluateThroughGalleryDb(resolve(io.cwd, galleryDb), modelPath, model, data, pairs, dataset, log);
      const metrics = {
        ...evaluation.metrics,
        ...(reranked ? { reranked } : {}),
        ...(throughIndex ? { galleryDb: throughIndex } : {}),
      };
      log.result(formatModelTable(metrics));
      if (metrics.perCamera?.length) log.result(formatPerCamera(metrics));
      if (reranked) {
        log.result('after k-reciprocal re-ranking (k1 20, k2 6, λ 0.3):');
        log.result(
          formatModelTable({ i2v: reranked.i2v ?? metrics.i2v, ...(reranked.v2v ? { v2v: reranked.v2v } : {}) }),
        );
      }
      if (throughIndex) {
        log.result(`through the gallery database ${displayPath(io.cwd, galleryDb as string)}:`);
        log.result(formatGalleryDbTable(metrics, throughIndex));
      }
      if (saveDirectory) {
        const saved = await saveFeatures(saveDirectory, pairs);
        log.result(
          `features: ${displayPath(io.cwd, saveDirectory)} (${saved.files.length} files; features.json has the vkd-metrics command of each protocol)`,
        );
      }
      if (out) {
        const path = join(out, RUN_FILES.metrics);
        await writeMetrics(path, {
          model: metrics,
          settings: {
            command: 'evaluate',
            backend: device.backend,
            dataset: { name: data.dataset, root: data.root },
            data,
            modelDirectory: modelPath,
          },
        });
        log.result(`metrics: ${displayPath(io.cwd, path)}`);
        if (ranked) {
          const pictures = await writeRankedResults(
            pairs,
            dataset,
            { worst: options.ranked as number, queries: rankedQueries, top: options.rankedTop as number },
            out,
          );
          for (const picture of pictures) log.result(`ranked results: ${displayPath(io.cwd, picture)}`);
        }
      }
      return 0;
    } finally {
      model.dispose();
    }
  },
};
