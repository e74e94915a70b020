import { readFile } from 'node:fs/promises';
import { FileFormatError } from '@vkd/core';
import type { LossPoint } from './run-metrics';

/**
 * Reads the epoch lines of a trainer JSONL log (`{ type: 'epoch', epoch, total, losses: { crossEntropy, … } }`) as
 * chart points: one per loss term and one for the weighted `total`, at 1-based epochs. A missing file gives `[]`.
 * @throws FileFormatError naming the file and line when a line is not JSON.
 */
export async function readLossLog(path: string, stage: LossPoint['stage']): Promise<LossPoint[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const points: LossPoint[] = [];
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    let entry: { type?: string; epoch?: number; total?: number; losses?: Record<string, number> };
    try {
      entry = JSON.parse(line);
    } catch (error) {
      throw new FileFormatError(path, `Not a JSON line: ${(error as Error).message}`, { line: index + 1, cause: error });
    }
    if (entry.type !== 'epoch' || typeof entry.epoch !== 'number') return;
    const epoch = entry.epoch + 1;
    for (const [term, value] of Object.entries(entry.losses ?? {})) if (typeof value === 'number') points.push({ stage, epoch, term, value });
    if (typeof entry.total === 'number') points.push({ stage, epoch, term: 'total', value: entry.total });
  });
  return points;
}
