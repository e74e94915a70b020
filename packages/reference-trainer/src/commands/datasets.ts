import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { InvalidOptionError, MAX_SEED } from '@vkd/core';
import { datasetNames, formatStatistics, loadDataset, SYNTHETIC_LIMITS } from '@vkd/datasets';
import type { CommandDefinition } from '../cli/command';
import { registryChoice } from '../config/option-groups';
import { requireOption } from '../options/resolve-options';
import { loadRunDataset } from '../run/load-run-dataset';
import { acquireRunLock } from '../run/run-lock';
import { createRunLog, displayPath } from '../run/run-log';

/** `vkd datasets stats|generate`. */
export const datasetsCommand: CommandDefinition = {
  name: 'datasets',
  summary: 'dataset statistics (stats) and synthetic multi-view set generation (generate)',
  usage: 'stats --dataset NAME --root DIR | generate --out DIR [--identities N …]',
  details: [
    'stats     loads a dataset and prints identities, tracklets, frames and cameras per split.',
    'generate  writes a synthetic multi-view set in the MARS layout (each camera sees its own viewpoints), loadable',
    '          with --dataset synthetic (or mars).',
  ].join('\n'),
  examples: [
    'vkd datasets stats --dataset mars --root ./datasets/mars',
    'vkd datasets generate --out ./datasets/synthetic --identities 40 --cameras 4',
  ],
  positionals: { min: 1, max: 1, names: 'one action: stats or generate' },
  options: [
    { key: 'quiet', kind: 'boolean', default: false, description: 'print only results and errors' },
    { key: 'config', kind: 'path', flagOnly: true, placeholder: 'file', description: 'JSON or YAML file of options' },
    registryChoice({ key: 'dataset', default: 'synthetic', description: 'dataset loader (stats)' }, datasetNames),
    { key: 'root', kind: 'path', placeholder: 'dir', description: 'dataset root (stats)' },
    {
      key: 'skipBadFrames',
      kind: 'boolean',
      default: false,
      description: 'decode every frame and count those that cannot be decoded instead of failing (stats)',
    },
    {
      key: 'out',
      alias: 'o',
      kind: 'path',
      placeholder: 'dir',
      description: 'where to write the synthetic set (generate)',
    },
    {
      key: 'identities',
      kind: 'integer',
      min: 4,
      max: SYNTHETIC_LIMITS.identities.max,
      default: 40,
      description: 'identities, half for training (generate)',
    },
    {
      key: 'cameras',
      kind: 'integer',
      min: SYNTHETIC_LIMITS.cameras.min,
      max: SYNTHETIC_LIMITS.cameras.max,
      default: 4,
      description: 'cameras (generate)',
    },
    {
      key: 'trackletsPerIdentity',
      kind: 'integer',
      min: SYNTHETIC_LIMITS.trackletsPerIdentity.min,
      max: SYNTHETIC_LIMITS.trackletsPerIdentity.max,
      default: 2,
      description: 'tracklets per identity per camera (generate)',
    },
    {
      key: 'framesPerTracklet',
      kind: 'integer',
      min: SYNTHETIC_LIMITS.framesPerTracklet.min,
      max: SYNTHETIC_LIMITS.framesPerTracklet.max,
      default: 8,
      description: 'frames per tracklet (generate)',
    },
    {
      key: 'height',
      kind: 'integer',
      min: SYNTHETIC_LIMITS.height.min,
      max: SYNTHETIC_LIMITS.height.max,
      default: 128,
      description: 'frame height (generate)',
    },
    {
      key: 'width',
      kind: 'integer',
      min: SYNTHETIC_LIMITS.width.min,
      max: SYNTHETIC_LIMITS.width.max,
      default: 64,
      description: 'frame width (generate)',
    },
    { key: 'seed', kind: 'integer', min: 0, max: MAX_SEED, default: 0, description: 'random seed (generate)' },
    {
      key: 'regenerate',
      kind: 'boolean',
      default: false,
      description: 'replace a set generated there with other options (only the files it lists; generate)',
    },
  ],
  async run({ options, positionals, io }) {
    const log = createRunLog(io, options.quiet as boolean);
    const action = positionals[0];
    if (action === 'stats') {
      const root = requireOption<string>(
        options,
        'root',
        '--root',
        'pass the dataset root directory to read, e.g. --root ./datasets/mars.',
      );
      const dataset = await loadRunDataset(options.dataset as string, root, {
        skipBadFrames: options.skipBadFrames === true,
      });
      log.result(formatStatistics(dataset));
      return 0;
    }
    if (action === 'generate') {
      const out = requireOption<string>(
        options,
        'out',
        '--out',
        'pass the directory to write the synthetic set to, e.g. --out ./datasets/synthetic.',
      );
      const started = performance.now();
      // Two generators on one folder would each publish a half-checked set over the other's: the folder's run lock
      // (vkd-run.lock, the same lock as a run directory's) refuses the second, naming the first.
      await mkdir(out, { recursive: true });
      const lock = await acquireRunLock(resolve(out), 'vkd datasets generate', (holder) =>
        log.warn(
          `${out}: took over the lock of \`${holder.command}\` (pid ${holder.pid}, started ${holder.startedAt}), which is no longer running.`,
        ),
      );
      // The synthetic loader generates the set (temporary folder + rename), or with --regenerate replaces one it made
      // with other options; it never deletes a file it did not write.
      const dataset = await loadDataset('synthetic', {
        root: out,
        generate: {
          identities: options.identities as number,
          cameras: options.cameras as number,
          trackletsPerIdentity: options.trackletsPerIdentity as number,
          framesPerTracklet: options.framesPerTracklet as number,
          height: options.height as number,
          width: options.width as number,
          seed: options.seed as number,
        },
        regenerate: options.regenerate === true,
      }).finally(() => lock.release());
      log.info(`ready in ${((performance.now() - started) / 1000).toFixed(1)} s: ${displayPath(io.cwd, dataset.root)}`);
      log.result(formatStatistics(dataset));
      return 0;
    }
    throw new InvalidOptionError('action', action, 'Use `vkd datasets stats …` or `vkd datasets generate …`.');
  },
};
