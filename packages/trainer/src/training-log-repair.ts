import { readFile } from 'node:fs/promises';
import { writeFileAtomically } from './checkpoint-files';

/** What {@link repairTrainingLog} changed. */
export interface TrainingLogRepair {
  /** A last line without its newline (torn by a crash or a full disk) was cut off. */
  readonly tornLine: boolean;
  /** Lines that are not JSON objects, dropped (1-based line numbers in the old file). */
  readonly damagedLines: readonly number[];
  /** Step and epoch lines after the resume point, dropped because the resumed run writes them again. */
  readonly replayedLines: number;
}

/**
 * Prepares a `jsonlLogHook` log for a resumed run: cuts a torn last line, drops damaged lines, and drops the step
 * lines after `globalStep` and the epoch lines from `nextEpoch` on, which the resumed run logs again (so the log has
 * no duplicates). Other lines (`train-start`, `error`, `train-end`) stay as the record of the interrupted run.
 * The file is rewritten atomically, and only when something changes. A missing file is left missing.
 */
export async function repairTrainingLog(
  path: string,
  resumePoint: { nextEpoch: number; globalStep: number },
): Promise<TrainingLogRepair> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      return { tornLine: false, damagedLines: [], replayedLines: 0 };
    throw error;
  }
  const lines = text.split('\n');
  const last = lines.pop() as string; // '' when the file ends with a newline
  const tornLine = last !== '';
  const kept: string[] = [];
  const damagedLines: number[] = [];
  let replayedLines = 0;
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    let entry: { type?: unknown; epoch?: unknown; globalStep?: unknown };
    try {
      entry = JSON.parse(line);
      if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new Error('not an object');
    } catch {
      damagedLines.push(index + 1);
      return;
    }
    const replayed =
      (entry.type === 'step' && typeof entry.globalStep === 'number' && entry.globalStep > resumePoint.globalStep) ||
      (entry.type === 'epoch' && typeof entry.epoch === 'number' && entry.epoch >= resumePoint.nextEpoch);
    if (replayed) replayedLines += 1;
    else kept.push(line);
  });
  if (tornLine || damagedLines.length > 0 || replayedLines > 0) {
    await writeFileAtomically(path, kept.map((line) => `${line}\n`).join(''));
  }
  return { tornLine, damagedLines, replayedLines };
}
