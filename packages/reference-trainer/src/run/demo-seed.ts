import { join } from 'node:path';
import { loadDataset, type ReidDataset } from '@vkd/datasets';
import { createReidModel, setModelMetadata, type ReidModel } from '@vkd/models';
import { createStudent } from '@vkd/trainer';
import type { DataSettings, DistillSettings, ModelSettings, TrainingSettings } from '../config/stage-settings';
import type { BenchmarkRole } from '../report/seed-benchmark';
import type { ModelMetrics, RunMetrics } from '../report/run-metrics';
import { evaluateRun } from './evaluate-run';
import { openRunDirectory, type RunDirectory } from './run-directory';
import { trainedModelMetadata } from './model-input';
import { RUN_FILES, writeMetrics } from './run-files';
import type { RunLog } from './run-log';
import { distillStudent, STAGE_FILES, trainTeacher } from './train-stage';

/** Synthetic-set size of a demo run (`generateSyntheticDataset` options without root, image size and seed). */
export interface DemoDataSize {
  readonly identities: number;
  readonly cameras: number;
  readonly trackletsPerIdentity: number;
  readonly framesPerTracklet: number;
}

/** The students trained after the teacher, in order: what each is, where it goes, its KD/DP weights. */
export interface DemoStudent {
  readonly role: Exclude<BenchmarkRole, 'teacher'>;
  /** Progress/log label. */
  readonly label: string;
  /** Sub-directory of the seed's run directory. */
  readonly directory: string;
  readonly kd: boolean;
  readonly dp: boolean;
}

/** VKD (CE+TR+KD+DP), the no-KD control (CE+TR) and the two one-term students of the ablation. */
export const DEMO_STUDENTS: readonly DemoStudent[] = [
  { role: 'student', label: 'student', directory: RUN_FILES.student, kd: true, dp: true },
  { role: 'baseline', label: 'no-KD student', directory: RUN_FILES.baseline, kd: false, dp: false },
  { role: 'kdOnly', label: 'KD-only student', directory: 'student-kd-only', kd: true, dp: false },
  { role: 'dpOnly', label: 'DP-only student', directory: 'student-dp-only', kd: false, dp: true },
];

/** Everything one demo seed needs. */
export interface DemoSeedOptions {
  /** The seed's run directory (data, teacher, students, metrics.json). */
  readonly out: string;
  readonly seed: number;
  readonly size: DemoDataSize;
  /** Data settings (root, image size; `seed` is replaced by `seed`). */
  readonly data: DataSettings;
  readonly model: ModelSettings;
  readonly teacherTraining: TrainingSettings;
  readonly studentTraining: DistillSettings;
  /** Which students to train besides the VKD one. */
  readonly roles: ReadonlySet<DemoStudent['role']>;
  readonly log: RunLog;
  /** Settings recorded in metrics.json besides the run's own. */
  readonly settings: Record<string, unknown>;
  /** Gallery-frame counts of the V2V sweep (paper Fig. 3) besides the test frames; default [1, 2, 4, 8]. */
  readonly galleryFramesSweep?: readonly number[];
  /** Called with the trained teacher and VKD student before they are disposed (e.g. for the report). */
  readonly beforeDispose?: (context: DemoSeedContext) => Promise<void>;
}

/** The live models and data of a finished seed (valid only inside `beforeDispose`). */
export interface DemoSeedContext {
  readonly dataset: ReidDataset;
  readonly data: DataSettings;
  readonly teacher: ReidModel;
  readonly student: ReidModel;
  readonly metrics: RunMetrics;
}

/** What a demo seed measured. */
export interface DemoSeedResult {
  readonly metrics: RunMetrics;
  readonly models: Partial<Record<BenchmarkRole, ModelMetrics>>;
  readonly seconds: Partial<Record<BenchmarkRole, number>> & { total: number };
  readonly queries: number;
}

/**
 * One demo seed: generates the synthetic set for the seed (its own appearance draws, cameras and walks), trains the
 * teacher (model initialisation and batches from the same seed), then each requested student from the same teacher
 * with the same data and schedule, differing only in the KD/DP weights; evaluates all of them and writes
 * `out/metrics.json` (`teacher`, `student`, `baseline`, and `ablation.kdOnly|dpOnly` when trained).
 * `out` is a run directory (`openRunDirectory`, mode `'replace'`): a new demo replaces only the files an earlier one
 * listed in `out/vkd-run.json`, and refuses when anything else is where it writes. The synthetic set in `out/data`
 * has its own manifest: it is reused when current and otherwise replaced (only the files the generator wrote).
 */
export async function runDemoSeed(options: DemoSeedOptions): Promise<DemoSeedResult> {
  const { out, seed, size, model, teacherTraining, studentTraining, log } = options;
  const started = performance.now();
  const data: DataSettings = { ...options.data, root: join(out, RUN_FILES.data), seed };
  const sweep = options.galleryFramesSweep ?? [1, 2, 4, 8];
  const students = DEMO_STUDENTS.filter((student) => student.role === 'student' || options.roles.has(student.role));
  const written = [
    RUN_FILES.teacher,
    RUN_FILES.report,
    RUN_FILES.metrics,
    ...DEMO_STUDENTS.map((student) => student.directory),
  ];
  const run = await openRunDirectory(out, {
    mode: 'replace',
    command: String(options.settings.command ?? 'vkd demo'),
    writes: written,
    keep: [RUN_FILES.data],
    onWarning: (text) => log.warn(text),
  });
  try {
    return await trainSeed(run);
  } finally {
    await run.close();
  }
  async function trainSeed(run: RunDirectory): Promise<DemoSeedResult> {
    const dataset = await loadDataset('synthetic', {
      root: data.root,
      generate: { ...size, height: data.height, width: data.width, seed },
      regenerate: true,
    });
    log.info(
      `demo seed ${seed}: ${dataset.train.length} train / ${dataset.query.length} query / ${dataset.gallery.length} gallery tracklets, ${dataset.numTrainIdentities} train identities`,
    );
    const teacher = createReidModel({ ...model, numIdentities: dataset.numTrainIdentities, seed });
    const record = { dataset: data.dataset, numIdentities: dataset.numTrainIdentities };
    setModelMetadata(
      teacher,
      trainedModelMetadata(data, { ...record, stage: 'teacher', framesPerTracklet: teacherTraining.framesPerTracklet }),
    );
    const teacherModel = join(out, RUN_FILES.teacher, STAGE_FILES.model);
    const trained: ReidModel[] = [];
    try {
      const teacherStage = await trainTeacher(
        teacher,
        dataset,
        data,
        teacherTraining,
        run,
        join(out, RUN_FILES.teacher),
        log,
      );
      const seconds: DemoSeedResult['seconds'] = { teacher: teacherStage.seconds, total: 0 };
      const models: DemoSeedResult['models'] = {
        teacher: await evaluateRun(teacher, dataset, data, log, 'teacher', sweep),
      };
      for (const variant of students) {
        const student = createStudent(teacher, { lastStage: 'random' });
        setModelMetadata(
          student,
          trainedModelMetadata(data, {
            ...record,
            stage: variant.role,
            framesPerTracklet: studentTraining.studentFrames,
            teacher: teacherModel,
          }),
        );
        trained.push(student);
        const training = {
          ...studentTraining,
          kdWeight: variant.kd ? studentTraining.kdWeight : 0,
          dpWeight: variant.dp ? studentTraining.dpWeight : 0,
        };
        const stage = await distillStudent(
          teacher,
          student,
          dataset,
          data,
          training,
          run,
          join(out, variant.directory),
          log,
          [],
          variant.label,
        );
        seconds[variant.role] = stage.seconds;
        models[variant.role] = await evaluateRun(student, dataset, data, log, variant.label, sweep);
        if (variant.role !== 'student') {
          trained.pop();
          student.dispose();
        }
      }
      seconds.total = (performance.now() - started) / 1000;
      const ablation = {
        ...(models.kdOnly ? { kdOnly: models.kdOnly } : {}),
        ...(models.dpOnly ? { dpOnly: models.dpOnly } : {}),
      };
      const metrics: RunMetrics = {
        teacher: models.teacher,
        ...(models.student ? { student: models.student } : {}),
        ...(models.baseline ? { baseline: models.baseline } : {}),
        ...(Object.keys(ablation).length > 0 ? { ablation } : {}),
        settings: {
          ...options.settings,
          dataset: { name: 'synthetic', root: data.root, ...size, height: data.height, width: data.width },
          data,
          model,
          teacher: { ...teacherTraining, framesSeenByModel: teacherTraining.framesPerTracklet },
          student: { ...studentTraining, framesSeenByModel: studentTraining.studentFrames },
          ...(models.baseline ? { baseline: 'student trained identically with kdWeight = dpWeight = 0' } : {}),
          ...(Object.keys(ablation).length > 0
            ? { ablation: 'kdOnly: dpWeight = 0; dpOnly: kdWeight = 0; otherwise as the student' }
            : {}),
          seconds,
          seed,
        },
      };
      await writeMetrics(join(out, RUN_FILES.metrics), metrics);
      await run.record(RUN_FILES.metrics);
      const student = trained[0];
      if (options.beforeDispose && student) await options.beforeDispose({ dataset, data, teacher, student, metrics });
      await run.record(RUN_FILES.report);
      return { metrics, models, seconds, queries: dataset.query.length };
    } finally {
      for (const model of trained) model.dispose();
      teacher.dispose();
    }
  }
}
