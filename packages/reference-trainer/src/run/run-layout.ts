import { access } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { LossPoint, RunMetrics } from '../report/run-metrics';
import { MODEL_MANIFEST } from './model-input';
import { RUN_FILES } from './run-files';
import { STAGE_FILES } from './train-stage';

/** Which command wrote a run directory. */
export type RunKind = 'demo' | 'teacher' | 'student' | 'evaluation';

/** Where the files of one run are, as far as they exist. */
export interface RunLayout {
  readonly kind: RunKind;
  /** Training logs found, by stage. */
  readonly logs: ReadonlyArray<{ readonly stage: LossPoint['stage']; readonly path: string }>;
  /** Model directories found (holding model.json). */
  readonly models: { readonly teacher?: string; readonly student?: string; readonly model?: string };
  /** What is not there and why, one sentence each (shown in the report and on the console). */
  readonly missing: readonly string[];
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

/** A model directory given as a run directory (with model/) or as the model directory itself. */
async function modelDirectoryOf(directory: string | undefined): Promise<string | undefined> {
  if (!directory) return undefined;
  if (await exists(join(directory, STAGE_FILES.model, MODEL_MANIFEST))) return join(directory, STAGE_FILES.model);
  return (await exists(join(directory, MODEL_MANIFEST))) ? directory : undefined;
}

/** The run directory that holds a model directory written by a training stage (`<run>/model`). */
const runOf = (modelDirectory: string) =>
  basename(modelDirectory) === STAGE_FILES.model ? dirname(modelDirectory) : modelDirectory;

/** The kind of run, from the command recorded in metrics.json (older files: from what they hold). */
function kindOf(metrics: RunMetrics): RunKind {
  const command = String(metrics.settings.command ?? '');
  if (command.startsWith('vkd demo') || command === 'demo') return 'demo';
  if (command === 'train-teacher') return 'teacher';
  if (command === 'distill') return 'student';
  if (command === 'evaluate' || metrics.model) return 'evaluation';
  return metrics.student ? 'student' : 'teacher';
}

/**
 * Finds the logs and models of a run written by `vkd demo` (`<run>/{teacher,student}/{log.jsonl,model}`),
 * `vkd train-teacher` (`<run>/{log.jsonl,model}`), `vkd distill` (the same, plus the teacher named by
 * `settings.teacherModel` / `settings.teacherDirectory`) or `vkd evaluate --out` (`settings.modelDirectory`).
 */
export async function locateRun(runDirectory: string, metrics: RunMetrics): Promise<RunLayout> {
  const kind = kindOf(metrics);
  const settings = metrics.settings as { teacherModel?: string; teacherDirectory?: string; modelDirectory?: string };
  const logs: Array<{ stage: LossPoint['stage']; path: string }> = [];
  const missing: string[] = [];
  const addLog = async (stage: LossPoint['stage'], path: string, what: string) => {
    if (await exists(path)) logs.push({ stage, path });
    else missing.push(`no ${stage} training log: ${path} does not exist (${what}).`);
  };
  const models: { teacher?: string; student?: string; model?: string } = {};
  if (kind === 'demo') {
    await addLog('teacher', join(runDirectory, RUN_FILES.teacher, STAGE_FILES.log), 'the demo writes it');
    await addLog('student', join(runDirectory, RUN_FILES.student, STAGE_FILES.log), 'the demo writes it');
    models.teacher = await modelDirectoryOf(join(runDirectory, RUN_FILES.teacher));
    models.student = await modelDirectoryOf(join(runDirectory, RUN_FILES.student));
  } else if (kind === 'teacher') {
    await addLog('teacher', join(runDirectory, STAGE_FILES.log), 'train-teacher writes it');
    models.teacher = await modelDirectoryOf(runDirectory);
  } else if (kind === 'student') {
    const named = settings.teacherModel ?? settings.teacherDirectory;
    const teacher = await modelDirectoryOf(named);
    if (teacher) {
      models.teacher = teacher;
      await addLog(
        'teacher',
        join(runOf(teacher), STAGE_FILES.log),
        'the teacher was given as a model directory outside a train-teacher run, or its run was moved',
      );
    } else {
      missing.push(
        named
          ? `no teacher model: ${named} (the --teacher of this run) holds no ${MODEL_MANIFEST} any more.`
          : 'no teacher model: metrics.json does not name the teacher.',
      );
    }
    await addLog('student', join(runDirectory, STAGE_FILES.log), 'distill writes it');
    models.student = await modelDirectoryOf(runDirectory);
  } else {
    models.model = await modelDirectoryOf(settings.modelDirectory);
    missing.push(
      'no training logs: an evaluation directory holds metrics only (report on the training run for losses and curves).',
    );
    if (!models.model)
      missing.push(`no model: ${settings.modelDirectory ?? 'metrics.json names none'} holds no ${MODEL_MANIFEST}.`);
  }
  for (const stage of ['teacher', 'student'] as const) {
    if (
      (kind === 'demo' || kind === 'teacher' || kind === 'student') &&
      metrics[stage] &&
      !models[stage] &&
      !(stage === 'teacher' && kind === 'student')
    ) {
      missing.push(
        `no ${stage} model: ${kind === 'demo' ? join(runDirectory, stage, STAGE_FILES.model) : join(runDirectory, STAGE_FILES.model)} holds no ${MODEL_MANIFEST}.`,
      );
    }
  }
  return { kind, logs, models, missing };
}
