import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { FileFormatError, InvalidOptionError, parseStrictJson } from '@vkd/core';
import type { RunMetrics } from '../report/run-metrics';

/** Layout of a run directory written by `vkd demo` (and read by `vkd report`). */
export const RUN_FILES = {
  metrics: 'metrics.json',
  data: 'data',
  teacher: 'teacher',
  student: 'student',
  baseline: 'baseline',
  report: 'report',
} as const;

/** Writes `metrics.json` (pretty-printed, trailing newline). */
export async function writeMetrics(path: string, metrics: RunMetrics): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(metrics, null, 2)}\n`);
}

/**
 * Reads `<run>/metrics.json`.
 * @throws InvalidOptionError (`--run`) when it is missing; FileFormatError when it is not a metrics file.
 */
export async function readMetrics(runDirectory: string): Promise<RunMetrics> {
  const path = join(runDirectory, RUN_FILES.metrics);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new InvalidOptionError(
      '--run',
      runDirectory,
      `No ${RUN_FILES.metrics} there; point --run at a directory written by \`vkd demo\` or \`vkd evaluate --out\`.`,
      { cause: error },
    );
  }
  let parsed: unknown;
  try {
    parsed = parseStrictJson(text);
  } catch (error) {
    throw new FileFormatError(path, `Invalid JSON: ${(error as Error).message}`, { cause: error });
  }
  const metrics = parsed as Partial<RunMetrics>;
  if (typeof parsed !== 'object' || parsed === null || !(metrics.teacher || metrics.student || metrics.model)) {
    throw new FileFormatError(path, 'Expected { teacher?, student?, model?, settings } with at least one model.');
  }
  for (const name of ['teacher', 'student', 'model'] as const) {
    const model = metrics[name];
    if (model && typeof model.i2v?.rank1 !== 'number')
      throw new FileFormatError(path, `${name}.i2v.rank1 is missing or not a number.`);
  }
  return { settings: {}, ...metrics } as RunMetrics;
}
