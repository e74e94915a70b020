import { parseArgs } from 'node:util';
import { InvalidOptionError, ShapeMismatchError, VkdError } from '@vkd/core';
import { evaluateFeatures } from '../evaluate-features';
import { evaluateRanking } from '../evaluate-ranking';
import { validateMetric } from '../pairwise-distances';
import type { RankingResult } from '../ranking-accumulator';
import { reRank, validateReRankOptions } from '../re-ranking';
import { MAX_RANK } from '../ranking-input';
import { formatRankingTable } from './format-ranking-table';
import { readDistances, readFeatures, readLabelColumn, readLabelTable } from './read-inputs';

/** The text `vkd-metrics --help` prints. */
export const METRICS_CLI_HELP = `vkd-metrics — Re-ID ranking metrics (CMC, mAP, trapezoid mAP, mINP) from features or distances

Usage:
  vkd-metrics --query Q.npy --gallery G.npy --query-labels q.csv --gallery-labels g.csv [options]
  vkd-metrics --distances D.npy --query-ids q_ids.npy --query-cams q_cams.npy \\
              --gallery-ids g_ids.npy --gallery-cams g_cams.npy [options]

Inputs:
  --query FILE            query features, .npy float32/float64 [Q, D] (C order)
  --gallery FILE          gallery features, .npy float32/float64 [G, D]
  --distances FILE        precomputed distances, .npy [Q, G] (instead of --query/--gallery)
  --query-labels FILE     CSV with a header naming identity (identity|pid|id) and camera (camera|camid|cam) columns
  --gallery-labels FILE   same, for the gallery
  --query-ids FILE        identities, .npy integer [Q] or text/CSV with one integer per line
  --query-cams FILE       cameras, same formats
  --gallery-ids FILE      --gallery-cams FILE   likewise for the gallery

Options:
  --metric NAME           cosine (default) | euclidean | squared-euclidean
  --max-rank N            length of the CMC curve (default 50)
  --junk-ids LIST         comma-separated junk identities removed from every ranking (default -1)
  --keep-same-camera      count same-identity items from the query's camera as matches
  --rerank                k-reciprocal re-ranking (needs features) with --k1 (20) --k2 (6) --lambda (0.3)
  --json                  print the result as JSON
  -h, --help              this help

Ties in distance are broken by gallery index, so results are identical on every machine.`;

/** Where the CLI writes. */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const OPTIONS = {
  query: { type: 'string' },
  gallery: { type: 'string' },
  distances: { type: 'string' },
  'query-labels': { type: 'string' },
  'gallery-labels': { type: 'string' },
  'query-ids': { type: 'string' },
  'query-cams': { type: 'string' },
  'gallery-ids': { type: 'string' },
  'gallery-cams': { type: 'string' },
  metric: { type: 'string', default: 'cosine' },
  'max-rank': { type: 'string', default: '50' },
  'junk-ids': { type: 'string', default: '-1' },
  'keep-same-camera': { type: 'boolean', default: false },
  rerank: { type: 'boolean', default: false },
  k1: { type: 'string', default: '20' },
  k2: { type: 'string', default: '6' },
  lambda: { type: 'string', default: '0.3' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/**
 * Runs `vkd-metrics` with the given arguments.
 * @returns the exit code: 0 success, 1 bad data (typed error printed), 2 bad usage.
 */
export function runMetricsCli(argv: readonly string[], io: CliIo): number {
  let values: ReturnType<typeof parse>;
  try {
    values = parse(argv);
  } catch (error) {
    io.stderr(`vkd-metrics: ${(error as Error).message}\nRun vkd-metrics --help for usage.\n`);
    return 2;
  }
  if (values.help) {
    io.stdout(`${METRICS_CLI_HELP}\n`);
    return 0;
  }
  if (argv.length === 0) {
    io.stderr(`${METRICS_CLI_HELP}\n`);
    return 2;
  }
  try {
    const result = evaluate(values);
    io.stdout(
      values.json
        ? `${JSON.stringify(toJson(result.ranking, result.settings), null, 2)}\n`
        : `${formatRankingTable(result.ranking, result.settings)}\n`,
    );
    return 0;
  } catch (error) {
    if (!VkdError.isInstance(error)) throw error;
    io.stderr(`vkd-metrics: ${error.message}\n`);
    return error instanceof InvalidOptionError && error.option.startsWith('--') ? 2 : 1;
  }
}

function parse(argv: readonly string[]) {
  return parseArgs({ args: [...argv], options: OPTIONS, strict: true, allowPositionals: false }).values;
}

type Values = ReturnType<typeof parse>;

function integerOption(values: Values, name: 'max-rank' | 'k1' | 'k2'): number {
  const text = values[name] as string;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new InvalidOptionError(`--${name}`, text, 'Use a positive integer.');
  if (name === 'max-rank' && value > MAX_RANK) {
    throw new InvalidOptionError(
      `--${name}`,
      text,
      `Use at most ${MAX_RANK}: ranks past the gallery size add nothing, and each costs memory.`,
    );
  }
  return value;
}

function labels(values: Values, side: 'query' | 'gallery'): { identities: Int32Array; cameras: Int32Array } {
  const table = values[`${side}-labels`];
  const ids = values[`${side}-ids`];
  const cams = values[`${side}-cams`];
  if (table !== undefined) {
    if (ids !== undefined || cams !== undefined)
      throw new InvalidOptionError(
        `--${side}-labels`,
        table,
        `Give either --${side}-labels or --${side}-ids with --${side}-cams, not both.`,
      );
    return readLabelTable(table, `--${side}-labels`);
  }
  if (ids === undefined || cams === undefined) {
    throw new InvalidOptionError(
      `--${side}-labels`,
      undefined,
      `Give --${side}-labels FILE, or both --${side}-ids and --${side}-cams.`,
    );
  }
  const identities = readLabelColumn(ids, `--${side}-ids`);
  const cameras = readLabelColumn(cams, `--${side}-cams`);
  if (identities.length !== cameras.length)
    throw new ShapeMismatchError(
      `--${side}-cams (${cams})`,
      `[${identities.length}] like --${side}-ids`,
      `[${cameras.length}]`,
    );
  return { identities, cameras };
}

/** Checks a command-line option with a library validator, reporting it as the flag (a usage error, exit 2). */
function flagOption<T>(flag: string, value: unknown, validate: () => T): T {
  try {
    return validate();
  } catch (error) {
    if (error instanceof InvalidOptionError && !error.option.startsWith('--'))
      throw new InvalidOptionError(flag, value, error.reason, { cause: error });
    throw error;
  }
}

function evaluate(values: Values) {
  const metric = flagOption('--metric', values.metric, () => validateMetric(values.metric));
  const maxRank = integerOption(values, 'max-rank');
  // Checked even without --rerank, so that a typo in them is not silently ignored.
  const reRankOptions = {
    k1: integerOption(values, 'k1'),
    k2: integerOption(values, 'k2'),
    lambda: Number(values.lambda),
    metric,
  };
  flagOption('--lambda', values.lambda, () => validateReRankOptions(reRankOptions));
  const junkIdentities = (values['junk-ids'] as string)
    .split(',')
    .filter((part) => part.trim() !== '')
    .map((part) => {
      const value = Number(part);
      if (!Number.isInteger(value))
        throw new InvalidOptionError('--junk-ids', values['junk-ids'], 'Use comma-separated integers, e.g. -1,0.');
      return value;
    });
  const query = labels(values, 'query');
  const gallery = labels(values, 'gallery');
  const ranking = {
    queryIdentities: query.identities,
    queryCameras: query.cameras,
    galleryIdentities: gallery.identities,
    galleryCameras: gallery.cameras,
    maxRank,
    junkIdentities,
    excludeSameCamera: !values['keep-same-camera'],
  };
  const settings = {
    metric,
    maxRank,
    junkIdentities,
    excludeSameCamera: ranking.excludeSameCamera,
    rerank: values.rerank,
    queries: query.identities.length,
    gallery: gallery.identities.length,
  };
  if (values.distances !== undefined) {
    if (values.query !== undefined || values.gallery !== undefined)
      throw new InvalidOptionError(
        '--distances',
        values.distances,
        'Give either --distances or --query/--gallery features, not both.',
      );
    if (values.rerank)
      throw new InvalidOptionError(
        '--rerank',
        true,
        'Re-ranking needs --query and --gallery features, not --distances.',
      );
    const { distances, rows, cols } = readDistances(values.distances, '--distances');
    if (rows !== query.identities.length || cols !== gallery.identities.length) {
      throw new ShapeMismatchError(
        `--distances (${values.distances})`,
        `[Q=${query.identities.length}, G=${gallery.identities.length}] from the label files`,
        `[${rows}, ${cols}]`,
      );
    }
    return { ranking: evaluateRanking({ distances, ...ranking }), settings: { ...settings, metric: 'precomputed' } };
  }
  if (values.query === undefined || values.gallery === undefined) {
    throw new InvalidOptionError('--query', values.query, 'Give --query and --gallery feature files (or --distances).');
  }
  const q = readFeatures(values.query, '--query');
  const g = readFeatures(values.gallery, '--gallery');
  if (q.dim !== g.dim)
    throw new ShapeMismatchError(
      `--gallery (${values.gallery})`,
      `[G, D=${q.dim}] like --query`,
      `[${g.rows}, ${g.dim}]`,
    );
  if (q.rows !== query.identities.length)
    throw new ShapeMismatchError(
      `--query (${values.query})`,
      `[Q=${query.identities.length}, D] (one row per query label)`,
      `[${q.rows}, ${q.dim}]`,
    );
  if (g.rows !== gallery.identities.length)
    throw new ShapeMismatchError(
      `--gallery (${values.gallery})`,
      `[G=${gallery.identities.length}, D] (one row per gallery label)`,
      `[${g.rows}, ${g.dim}]`,
    );
  if (values.rerank) {
    const options = validateReRankOptions(reRankOptions);
    const distances = reRank({ queryFeatures: q.features, galleryFeatures: g.features, dim: q.dim, ...options });
    return { ranking: evaluateRanking({ distances, ...ranking }), settings: { ...settings, reRanking: options } };
  }
  return {
    ranking: evaluateFeatures({
      queryFeatures: q.features,
      galleryFeatures: g.features,
      dim: q.dim,
      metric,
      ...ranking,
    }),
    settings,
  };
}

function toJson(result: RankingResult, settings: Record<string, unknown>) {
  const at = (rank: number) => result.cmc[Math.min(rank, result.cmc.length) - 1];
  return {
    rank1: at(1),
    rank5: at(5),
    rank10: at(10),
    rank20: at(20),
    mAP: result.mAP,
    mAPTrapezoid: result.mAPTrapezoid,
    mINP: result.mINP,
    validQueries: result.validQueries,
    skippedQueries: result.skippedQueries,
    cmc: Array.from(result.cmc),
    settings,
  };
}
