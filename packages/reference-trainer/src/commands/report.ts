import { join } from 'node:path';
import type { ReidDataset } from '@vkd/datasets';
import type { CommandDefinition } from '../cli/command';
import { GENERAL_OPTIONS, LOADER_OPTIONS } from '../config/option-groups';
import { loaderSettings } from '../config/stage-settings';
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
    'Works on every run the CLI writes: vkd demo (RUN/{teacher,student}/…), train-teacher and distill (RUN/log.jsonl,',
    'RUN/model; a distill run also finds the teacher it names) and evaluate --out. Draws CMC, losses, evaluation curves',
    "(--eval-every), gallery frames, per camera, ranked results (evaluate --ranked) and, when the run's dataset and",
    'models are still there, a Grad-CAM panel. What it cannot draw it lists, with the reason. Default OUT: RUN/report.',
  ].join('\n'),
  examples: ['vkd report --run runs/demo', 'vkd report --run runs/demo --out /tmp/report --heatmaps 0'],
  options: [
    ...GENERAL_OPTIONS,
    ...LOADER_OPTIONS,
    {
      key: 'run',
      kind: 'path',
      placeholder: 'dir',
      description: 'run directory (written by vkd demo, distill or evaluate --out)',
    },
    { key: 'out', alias: 'o', kind: 'path', placeholder: 'dir', description: 'report directory (default: RUN/report)' },
    {
      key: 'heatmaps',
      kind: 'integer',
      min: 0,
      max: 32,
      default: 4,
      description: 'query frames in the Grad-CAM panel (0: none)',
    },
    {
      key: 'ranked',
      kind: 'integer',
      min: 0,
      max: 100,
      default: 0,
      description: "also draw ranked results of the run's student (or model): the N worst queries per protocol",
    },
  ],
  async run({ options, io }) {
    const log = createRunLog(io, options.quiet as boolean);
    const runDirectory = requireOption<string>(
      options,
      'run',
      '--run',
      'pass the run directory to report on (the --out of vkd demo, distill or evaluate), e.g. --run runs/demo.',
    );
    const metrics = await readMetrics(runDirectory);
    const settings = metrics.settings as {
      dataset?: { name?: string; root?: string };
      data?: { height?: number; width?: number };
    };
    const heatmaps = options.heatmaps as number;
    let dataset: ReidDataset | undefined;
    let datasetProblem: string | undefined;
    const { name, root } = settings.dataset ?? {};
    const ranked = options.ranked as number;
    if ((heatmaps > 0 || ranked > 0) && name && root) {
      try {
        dataset = await loadRunDataset(name, root);
      } catch (error) {
        datasetProblem = `the run's dataset (${name} at ${root}) cannot be loaded: ${(error as Error).message}`;
      }
    } else if (heatmaps > 0 || ranked > 0) {
      datasetProblem = 'metrics.json names no dataset';
    }
    if (dataset) await activateDevice(options.device as string, log, options.threads as number | undefined);
    const height = settings.data?.height;
    const width = settings.data?.width;
    const report = await reportRun({
      runDirectory,
      outDirectory: (options.out as string | undefined) ?? join(runDirectory, RUN_FILES.report),
      metrics,
      heatmaps,
      ranked,
      ...(dataset ? { dataset } : {}),
      ...(datasetProblem ? { datasetProblem } : {}),
      ...(height && width ? { imageSize: [height, width] as const } : {}),
      loader: loaderSettings(options),
      log,
    });
    for (const chart of report.charts) log.info(`chart: ${displayPath(io.cwd, chart)}`);
    log.result(`report: ${displayPath(io.cwd, report.html)}`);
    return 0;
  },
};
