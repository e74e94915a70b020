import { readFile } from 'node:fs/promises';
import type { LossPoint } from './run-metrics';

/** Options of {@link readLossLog}. */
export interface ReadLossLogOptions {
  /** Told once per file about the damaged lines that were skipped (1-based numbers, e.g. a line torn by a crash). */
  readonly onDamagedLines?: (path: string, lines: readonly number[]) => void;
}

/**
 * Reads the epoch lines of a trainer JSONL log (`{ type: 'epoch', epoch, total, losses: { crossEntropy, … } }`) as
 * chart points: one per loss term and one for the weighted `total`, at 1-based epochs. A missing file gives `[]`.
 * A line that is not a JSON object (torn by a crash or a full disk) is skipped and counted, never fatal; when an
 * epoch is logged twice (a resumed run from before logs were repaired on resume), the last line wins.
 */
export async function readLossLog(
  path: string,
  stage: LossPoint['stage'],
  options: ReadLossLogOptions = {},
): Promise<LossPoint[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const byEpoch = new Map<number, LossPoint[]>();
  const damaged: number[] = [];
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    let entry: { type?: string; epoch?: number; total?: number; losses?: Record<string, number> };
    try {
      entry = JSON.parse(line);
      if (typeof entry !== 'object' || entry === null) throw new Error('not an object');
    } catch {
      damaged.push(index + 1);
      return;
    }
    if (entry.type !== 'epoch' || typeof entry.epoch !== 'number') return;
    const epoch = entry.epoch + 1;
    const points: LossPoint[] = [];
    for (const [term, value] of Object.entries(entry.losses ?? {}))
      if (typeof value === 'number') points.push({ stage, epoch, term, value });
    if (typeof entry.total === 'number') points.push({ stage, epoch, term: 'total', value: entry.total });
    byEpoch.delete(epoch); // keep the insertion order of the last occurrence
    byEpoch.set(epoch, points);
  });
  if (damaged.length > 0) options.onDamagedLines?.(path, damaged);
  return [...byEpoch.values()].flat();
}
