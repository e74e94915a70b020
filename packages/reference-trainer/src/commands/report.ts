import { join } from 'node:path';
import type { ReidDataset } from '@vkd/datasets';
import type { CommandDefinition } from '../cli/command';
import { GENERAL_OPTIONS } from '../config/option-groups';
import { requireOption } from '../options/resolve-options';
import { activateDevice } from '../run/activate-device';
import { reportRun } from '../run/report-run';
import { readMetrics, RUN_FILES } from '../run/run-files';
import { loadRunDataset } from '../run/load-run-dataset';
import { createRunLog, displayPath } from '../run/run-log';

/** `vkd report`: the HTML report of a finished run. */
export const reportCommand: CommandDefinition = {
  name: 'report',
  summary: 'write an HTML report with PNG charts (CMC, losses, gallery frames, per camera) and Grad-CAM heat maps',
  usage: '--run DIR [--out DIR] [--heatmaps N]',
  details: [
    'Reads RUN/metrics.json and the stage logs (RUN/teacher/log.jsonl, RUN/student/log.jsonl). When the run\'s dataset',
    'and models are still there, adds a Grad-CAM panel of teacher vs student on query frames. Default OUT: RUN/report.',
  ].join('\n'),
  examples: ['vkd report --run runs/demo', 'vkd report --run runs/demo --out /tmp/report --heatmaps 0'],
  options: [
    ...GENERAL_OPTIONS,
    { key: 'run', kind: 'path', placeholder: 'dir', description: 'run directory (written by vkd demo, distill or evaluate --out)' },
    { key: 'out', alias: 'o', kind: 'path', placeholder: 'dir', description: 'report directory (default: RUN/report)' },
    { key: 'heatmaps', kind: 'integer', min: 0, max: 32, default: 4, description: 'query frames in the Grad-CAM panel (0: none)' },
  ],
  async run({ options, io }) {
    const log = createRunLog(io, options.quiet as boolean);
    const runDirectory = requireOption<string>(options, 'run', '--run', 'pass the run directory to report on (the --out of vkd demo, distill or evaluate), e.g. --run runs/demo.');
    const metrics = await readMetrics(runDirectory);
    const settings = metrics.settings as { dataset?: { name?: string; root?: string }; data?: { height?: number; width?: number } };
    const heatmaps = options.heatmaps as number;
    let dataset: ReidDataset | undefined;
    const { name, root } = settings.dataset ?? {};
    if (heatmaps > 0 && name && root) {
      try {
        dataset = await loadRunDataset(name, root);
      } catch (error) {
        log.warn(`cannot load the run's dataset (${(error as Error).message}); skipping the Grad-CAM panel`);
      }
    }
    if (dataset) await activateDevice(options.device as string, log, options.threads as number | undefined);
    const height = settings.data?.height;
    const width = settings.data?.width;
    const report = await reportRun({
      runDirectory,
      outDirectory: (options.out as string | undefined) ?? join(runDirectory, RUN_FILES.report),
      metrics,
      heatmaps,
      ...(dataset && height && width ? { dataset, imageSize: [height, width] as const } : {}),
      log,
    });
    for (const chart of report.charts) log.info(`chart: ${displayPath(io.cwd, chart)}`);
    log.result(`report: ${displayPath(io.cwd, report.html)}`);
    return 0;
  },
};
