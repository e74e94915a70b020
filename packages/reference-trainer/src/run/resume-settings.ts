import { readFile } from 'node:fs/promises';
import { CheckpointError, FileFormatError, InvalidOptionError, parseStrictJson, RunDirectoryError } from '@vkd/core';
import { flagName, keyFromFlag } from '../options/option-spec';

/** What a stage records in `settings.json` and what `--resume` compares. */
export interface RecordedStageSettings {
  readonly stage: string;
  readonly data: Readonly<Record<string, unknown>>;
  readonly training: Readonly<Record<string, unknown>>;
  readonly model?: Readonly<Record<string, unknown>>;
}

/**
 * Settings that do not change what is trained (how often to evaluate or save, how many checkpoints to keep, the
 * resume switches, the evaluation batch size, activation recomputation, the loaders' worker threads and read-ahead).
 * `epochs` is compared separately: more epochs continue the run.
 */
const RESULT_NEUTRAL = new Set([
  'epochs',
  'evalEvery',
  'saveEvery',
  'keepLast',
  'resume',
  'allowChanged',
  'force',
  'testBatch',
  'recompute',
  'workers',
  'prefetch',
]);

/** One setting that differs between a run and its `--resume`. */
export interface ChangedSetting {
  /** `data.seed`, `training.learningRate`, `model.baseWidth`, … */
  readonly path: string;
  /** The option key (`seed`), as `--allow-changed` takes it. */
  readonly key: string;
  readonly recorded: unknown;
  readonly current: unknown;
}

/** The result-changing settings that differ (`epochs` and the other neutral ones excluded). */
export function changedSettings(recorded: RecordedStageSettings, current: RecordedStageSettings): ChangedSetting[] {
  const changes: ChangedSetting[] = [];
  for (const group of ['data', 'training', 'model'] as const) {
    const before = recorded[group] ?? {};
    const after = current[group] ?? {};
    for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
      if (RESULT_NEUTRAL.has(key)) continue;
      if (JSON.stringify(before[key]) !== JSON.stringify(after[key]))
        changes.push({ path: `${group}.${key}`, key, recorded: before[key], current: after[key] });
    }
  }
  return changes;
}

/** Reads the `settings.json` a stage wrote. @throws RunDirectoryError when missing, FileFormatError when damaged. */
export async function readStageSettings(path: string, runDirectory: string): Promise<RecordedStageSettings> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new RunDirectoryError(
      runDirectory,
      `has no readable settings.json to compare --resume with (${(error as Error).message}); it was not written by this version of vkd, so start a fresh run elsewhere.`,
      { cause: error },
    );
  }
  try {
    const parsed = parseStrictJson(text) as RecordedStageSettings;
    if (typeof parsed.data !== 'object' || typeof parsed.training !== 'object')
      throw new Error('expected { stage, data, training }');
    return parsed;
  } catch (error) {
    throw new FileFormatError(path, `is not a stage settings file: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Refuses a `--resume` whose settings change the result, unless each changed key is in `allowed`
 * (`--allow-changed seed,learning-rate`; camelCase keys work too).
 * @returns the allowed changes (to print). @throws InvalidOptionError (`--resume`) naming each refused change.
 */
export function checkResumeSettings(
  recorded: RecordedStageSettings,
  current: RecordedStageSettings,
  allowed: readonly string[],
): ChangedSetting[] {
  if (recorded.stage !== current.stage) {
    throw new InvalidOptionError(
      '--resume',
      true,
      `The run there is a ${recorded.stage} stage, not ${current.stage}; resume it with the matching command.`,
    );
  }
  const changes = changedSettings(recorded, current);
  const allowedKeys = new Set(allowed.map((item) => keyFromFlag(item.trim())));
  const refused = changes.filter(
    (change, index) => !allowedKeys.has(change.key) && changes.findIndex((other) => other.key === change.key) === index,
  );
  if (refused.length > 0) {
    const list = refused
      .map((change) => `${flagName(change.key)} ${JSON.stringify(change.recorded)} → ${JSON.stringify(change.current)}`)
      .join(', ');
    throw new InvalidOptionError(
      '--resume',
      true,
      `These settings differ from the run being resumed and change its result: ${list}. Use the run's settings, or ` +
        `accept the change with --allow-changed ${refused.map((change) => flagName(change.key).slice(2)).join(',')}.`,
    );
  }
  return changes;
}

/** What `--resume` needs of `checkpoints.json` (`@vkd/trainer`'s CheckpointIndex). */
interface ResumableIndex {
  readonly latest?: string;
  readonly lastGood?: string;
  readonly checkpoints: readonly { readonly name: string; readonly nextEpoch: number }[];
}

/**
 * The checkpoint `--resume` continues from: the last good one (else the latest) of `index`.
 * @param checkpoints the checkpoints folder (for the message).
 * @param epochs `--epochs` of the resumed run.
 * @throws CheckpointError when there is none; InvalidOptionError (`--epochs`) when it has already trained more epochs
 *   than `epochs` (resuming would silently train nothing and keep a longer run under a shorter setting).
 */
export function checkpointToResume(
  index: ResumableIndex | undefined,
  checkpoints: string,
  epochs: number,
): { name: string; nextEpoch: number } {
  const name = index?.lastGood ?? index?.latest;
  if (!name)
    throw new CheckpointError(
      checkpoints,
      'has no checkpoint to resume from (checkpoints.json missing or empty); run without --resume.',
    );
  const entry = index?.checkpoints.find((candidate) => candidate.name === name);
  if (entry && entry.nextEpoch > epochs) {
    throw new InvalidOptionError(
      '--epochs',
      epochs,
      `The checkpoint ${name} to resume from has already trained ${entry.nextEpoch} epochs; pass --epochs ${entry.nextEpoch} or more.`,
    );
  }
  return { name, nextEpoch: entry?.nextEpoch ?? 0 };
}
