import { access, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ReidDataset } from '@vkd/datasets';
import { loadReidModel, type ReidModel } from '@vkd/models';
import { readLossLog } from '../report/read-loss-log';
import type { RunMetrics } from '../report/run-metrics';
import { writeReport, type ReportImage, type ReportOutput } from '../report/write-report';
import { writeHeatmaps } from './heatmaps';
import { RUN_FILES } from './run-files';
import type { RunLog } from './run-log';
import { STAGE_FILES } from './train-stage';

/** Options of `reportRun`. */
export interface ReportRunOptions {
  readonly runDirectory: string;
  readonly outDirectory: string;
  readonly metrics: RunMetrics;
  /** Query frames in the Grad-CAM panel (0: none). */
  readonly heatmaps: number;
  /** Needed for the Grad-CAM panel (query frames). */
  readonly dataset?: ReidDataset;
  readonly imageSize?: readonly [number, number];
  /** Models already in memory; otherwise `<run>/{teacher,student}/model` are loaded when present. */
  readonly teacher?: ReidModel;
  readonly student?: ReidModel;
  readonly log: RunLog;
  readonly title?: string;
}

const exists = (path: string) => access(path).then(() => true, () => false);

async function modelFor(given: ReidModel | undefined, directory: string): Promise<{ model: ReidModel; owned: boolean } | undefined> {
  if (given) return { model: given, owned: false };
  return (await exists(directory)) ? { model: await loadReidModel(directory), owned: true } : undefined;
}

/**
 * Writes the HTML report of a run: charts from `metrics` and the stage logs (`<run>/teacher/log.jsonl`,
 * `<run>/student/log.jsonl`, or `<run>/log.jsonl`), plus the Grad-CAM panel when both models and the dataset are there.
 */
export async function reportRun(options: ReportRunOptions): Promise<ReportOutput> {
  const { runDirectory, log } = options;
  await mkdir(options.outDirectory, { recursive: true });
  const damaged = { onDamagedLines: (path: string, lines: readonly number[]) => log.warn(`${path}: skipped ${lines.length} damaged line(s) (line ${lines.slice(0, 5).join(', ')})`) };
  const losses = [
    ...(await readLossLog(join(runDirectory, RUN_FILES.teacher, STAGE_FILES.log), 'teacher', damaged)),
    ...(await readLossLog(join(runDirectory, RUN_FILES.student, STAGE_FILES.log), 'student', damaged)),
  ];
  if (losses.length === 0) losses.push(...(await readLossLog(join(runDirectory, STAGE_FILES.log), options.metrics.student ? 'student' : 'teacher', damaged)));
  const images: ReportImage[] = [];
  if (options.heatmaps > 0 && options.dataset && options.imageSize) {
    const teacher = await modelFor(options.teacher, join(runDirectory, RUN_FILES.teacher, STAGE_FILES.model));
    const student = await modelFor(options.student, join(runDirectory, RUN_FILES.student, STAGE_FILES.model));
    try {
      const models = [
        ...(teacher ? [{ title: 'teacher', model: teacher.model }] : []),
        ...(student ? [{ title: 'student (VKD)', model: student.model }] : []),
      ];
      if (models.length > 0) {
        const file = 'heatmaps.png';
        const { headError, queries } = await writeHeatmaps(models, options.dataset, options.imageSize, options.heatmaps, join(options.outDirectory, file));
        images.push({
          file,
          caption: `Grad-CAM of the top identity logit on the last-stage feature maps, first frame of ${queries} query tracklets (one row each): where the teacher and the student look. Head reconstruction error ${headError.toExponential(1)}.`,
        });
      }
    } finally {
      if (teacher?.owned) teacher.model.dispose();
      if (student?.owned) student.model.dispose();
    }
  } else if (options.heatmaps > 0) {
    log.info('report: no dataset given, skipping the Grad-CAM panel');
  }
  return writeReport({ directory: options.outDirectory, metrics: options.metrics, losses, images, ...(options.title ? { title: options.title } : {}) });
}
