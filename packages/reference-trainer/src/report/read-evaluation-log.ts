import { readFile } from 'node:fs/promises';
import type { EvaluationPoint, LossPoint } from './run-metrics';

/**
 * Reads the evaluations a training log holds: the `metrics` of its epoch lines (`--eval-every`: `i2v.rank1`,
 * `i2v.mAP`, `i2v.mAPTrapezoid`, …), one point per metric at 1-based epochs. A missing file gives no points; lines
 * that are not JSON (a torn last line after a crash) are skipped and counted.
 */
export async function readEvaluationLog(
  path: string,
  stage: LossPoint['stage'],
): Promise<{ points: EvaluationPoint[]; skippedLines: number }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { points: [], skippedLines: 0 };
    throw error;
  }
  const points: EvaluationPoint[] = [];
  let skippedLines = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let entry: { type?: string; epoch?: number; metrics?: Record<string, unknown> };
    try {
      entry = JSON.parse(line);
    } catch {
      skippedLines += 1;
      continue;
    }
    if (entry.type !== 'epoch' || typeof entry.epoch !== 'number') continue;
    for (const [metric, value] of Object.entries(entry.metrics ?? {})) {
      if (typeof value === 'number' && Number.isFinite(value))
        points.push({ stage, epoch: entry.epoch + 1, metric, value });
    }
  }
  return { points, skippedLines };
}
