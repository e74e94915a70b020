import * as tf from '@tensorflow/tfjs-core';
import { join } from 'node:path';
import { loadReidModel, setModelMetadata, type ReidModel } from '@vkd/models';
import { createStudent } from '@vkd/trainer';
import type { CommandDefinition } from '../cli/command';
import {
  DATA_OPTIONS,
  DISTILL_OPTIONS,
  GENERAL_OPTIONS,
  LOADER_OPTIONS,
  OUTPUT_OPTIONS,
  TRAINING_OPTIONS,
} from '../config/option-groups';
import { dataSettings, distillSettings, generationLearningRate } from '../config/stage-settings';
import { requireOption } from '../options/resolve-options';
import { formatComparisonTable, verdict } from '../report/comparison-table';
import { activateDevice } from '../run/activate-device';
import { evaluateRun } from '../run/evaluate-run';
import { evaluationHook } from '../run/evaluation-hook';
import { findModelDirectory } from '../run/find-model-directory';
import { checkBatchMemory } from '../run/memory-preflight';
import { modelInputSize, readModelMetadata, trainedModelMetadata } from '../run/model-input';
import type { ModelMetrics } from '../report/run-metrics';
import { RUN_FILES, writeMetrics } from '../run/run-files';
import { loadRunDataset } from '../run/load-run-dataset';
import { createRunLog, displayPath } from '../run/run-log';
import { openRunDirectory, runDirectoryMode } from '../run/run-directory';
import { distillStudent, STAGE_FILES } from '../run/train-stage';

/** `vkd distill`: the VKD student stage (`tools/train_distill.py`). */
export const distillCommand: CommandDefinition = {
  name: 'distill',
  summary: 'distill a student from a trained teacher (VKD: CE + triplet + α·KD + β·DP, student sees M of N views)',
  usage: '--teacher DIR --dataset NAME --root DIR --out DIR [--preset NAME] [options]',
  details: [
    'Self-distillation: the student starts as a copy of the teacher with a fresh head and the last stage re-initialised',
    '(from --imagenet-weights when given, as the authors; otherwise randomly; --reinit-last-stage false keeps it). --student DIR starts from another',
    'teacher-stage model instead (cross-distillation, e.g. ResNet-101 → ResNet-34). The teacher is frozen and run with',
    'batch-statistics BN on all N views; the student sees a random M-subset of the same augmented frames.',
    'OUT must be empty (--resume continues the run there; --force replaces what earlier vkd runs wrote there, listed in',
    'OUT/vkd-run.json, and keeps every other file); a lock stops a second command writing there at the same time.',
    'Writes OUT/{log.jsonl, checkpoints/, model/, settings.json, metrics.json} (metrics of teacher and student).',
  ].join('\n'),
  examples: [
    'vkd distill --preset mars-resnet50 --root ./datasets/mars --teacher runs/mars-teacher --out runs/mars-student',
    'vkd distill --config distill.yaml --student-frames 2 --kd-weight 0.1 --dp-weight 1e-4',
  ],
  stage: 'distill',
  options: [
    ...GENERAL_OPTIONS,
    ...OUTPUT_OPTIONS,
    ...DATA_OPTIONS,
    ...LOADER_OPTIONS,
    ...TRAINING_OPTIONS,
    ...DISTILL_OPTIONS,
    {
      key: 'student',
      kind: 'path',
      placeholder: 'dir',
      description: 'cross-distillation: initialise the student from this teacher-stage model instead of the teacher',
    },
  ],
  async run({ options, io, explicit }) {
    const log = createRunLog(io, options.quiet as boolean);
    const out = requireOption<string>(
      options,
      'out',
      '--out',
      "pass the run directory to write the student's checkpoints, logs and model to, e.g. --out runs/student.",
    );
    const teacherDirectory = requireOption<string>(
      options,
      'teacher',
      '--teacher',
      "pass the teacher's run directory (the --out of vkd train-teacher) or model directory, e.g. --teacher runs/teacher.",
    );
    const training = distillSettings(options);
    // The user's paths first: a mistyped --root, --teacher, --student or --imagenet-weights fails at once, before the
    // backend is probed.
    const given = dataSettings(options);
    const dataset = await loadRunDataset(given.dataset, given.root, given);
    const teacherPath = await findModelDirectory(teacherDirectory, '--teacher');
    const data = modelInputSize(given, options, explicit, await readModelMetadata(teacherPath), '--teacher', log);
    const studentPath = options.student ? await findModelDirectory(options.student as string, '--student') : undefined;
    const start = training.imagenetStart;
    const imagenetPath =
      start.kind === 'imagenet' ? await findModelDirectory(start.directory, '--imagenet-weights') : undefined;
    const run = await openRunDirectory(out, {
      mode: runDirectoryMode(training.resume, options.force === true),
      command: 'vkd distill',
      writes: [...Object.values(STAGE_FILES), RUN_FILES.metrics, ...generationDirectories(training.generations)],
      onWarning: (text) => log.warn(text),
    });
    try {
      const device = await activateDevice(options.device as string, log, options.threads as number | undefined);
      const teacher = await loadReidModel(teacherPath);
      log.info(
        `distill: teacher ${displayPath(io.cwd, teacherPath)} (${teacher.config.backbone}, ${teacher.config.numIdentities} identities), ` +
          `${dataset.name} ${dataset.train.length} train tracklets, ${data.height}×${data.width}; student sees M=${training.studentFrames} of N=${training.framesPerTracklet} views, ` +
          `α=${training.kdWeight} β=${training.dpWeight} τ=${training.temperature}, ${training.epochs} epochs`,
      );
      const source = studentPath ? await loadReidModel(studentPath) : teacher;
      const imagenet = imagenetPath ? await loadReidModel(imagenetPath) : undefined;
      const imagenetWeights = imagenet?.getWeights();
      const reinit = !training.reinitLastStage
        ? ({ lastStage: 'keep' } as const)
        : imagenetWeights
          ? ({ lastStage: 'imagenet', imagenetWeights } as const)
          : ({ lastStage: 'random' } as const);
      const metadataFor = (model: ReidModel, teacherOf: string) =>
        setModelMetadata(
          model,
          trainedModelMetadata(data, {
            stage: 'student',
            dataset: data.dataset,
            numIdentities: model.config.numIdentities,
            framesPerTracklet: training.studentFrames,
            teacher: teacherOf,
          }),
        );
      try {
        let student = createStudent(source, reinit);
        metadataFor(student, teacherPath);
        if (source.studentReinitPrefixes.length === 0) {
          log.info(`distill: ${source.config.backbone}: the student re-initialises only its head, as the authors`);
        } else if (!training.reinitLastStage)
          log.info(
            "distill: --reinit-last-stage false: the student keeps the teacher's last stage (only the head is reset)",
          );
        else if (!imagenetWeights)
          log.info(
            `distill: ${start.kind === 'scratch' && start.explicit ? '--imagenet-weights none' : 'no --imagenet-weights'}: the student's last stage is re-initialised randomly (the authors load ImageNet weights)`,
          );
        try {
          const memory = await checkBatchMemory(
            student,
            data,
            { training, studentFrames: training.studentFrames, teacher },
            log,
          );
          // Born-again rounds (`--generations`, `train_distill.py` L215-225): each distilled student becomes the frozen
          // teacher of a fresh copy of itself (head and last stage re-initialised as the first), at a decayed rate.
          let currentTeacher = teacher;
          const generations: Array<{
            generation: number;
            learningRate: number;
            seconds: number;
            model: string;
            metrics?: ModelMetrics;
          }> = [];
          let stage: Awaited<ReturnType<typeof distillStudent>> | undefined;
          for (let generation = 1; generation <= training.generations; generation++) {
            const directory =
              training.generations === 1
                ? out
                : join(out, generationDirectories(training.generations)[generation - 1] as string);
            const learningRate = generationLearningRate(training, generation);
            const label = training.generations === 1 ? 'student' : `student g${generation}`;
            if (training.generations > 1)
              log.info(`distill: generation ${generation}/${training.generations}, learning rate ${learningRate}`);
            const hooks =
              training.evalEvery > 0 ? [evaluationHook(student, dataset, data, training.evalEvery, log, label)] : [];
            stage = await distillStudent(
              currentTeacher,
              student,
              dataset,
              data,
              { ...training, learningRate },
              run,
              directory,
              log,
              hooks,
              label,
            );
            const entry = { generation, learningRate, seconds: stage.seconds, model: stage.modelDirectory };
            if (generation === training.generations) {
              generations.push(entry);
              break;
            }
            generations.push({ ...entry, metrics: await evaluateRun(student, dataset, data, log, label) });
            if (currentTeacher !== teacher) currentTeacher.dispose();
            currentTeacher = student;
            student = createStudent(currentTeacher, reinit);
            metadataFor(student, stage.modelDirectory);
          }
          if (currentTeacher !== teacher) currentTeacher.dispose();
          if (!stage) throw new Error('internal: no generation ran');
          const teacherMetrics = await evaluateRun(teacher, dataset, data, log, 'teacher');
          const studentMetrics = await evaluateRun(student, dataset, data, log, 'student');
          const seconds = generations.reduce((sum, entry) => sum + entry.seconds, 0);
          const metrics = {
            teacher: teacherMetrics,
            student: studentMetrics,
            settings: {
              command: 'distill',
              backend: device.backend,
              dataset: { name: data.dataset, root: data.root },
              data,
              teacherDirectory,
              teacherModel: teacherPath,
              student: training,
              memory,
              seconds: { student: seconds },
              ...(training.generations > 1 ? { generations } : {}),
            },
          };
          await writeMetrics(join(out, RUN_FILES.metrics), metrics);
          await run.record(RUN_FILES.metrics);
          log.result(formatComparisonTable(metrics));
          log.result(verdict(metrics) ?? '');
          log.result(`model: ${displayPath(io.cwd, stage.modelDirectory)}`);
          return 0;
        } finally {
          student.dispose();
        }
      } finally {
        if (imagenetWeights) tf.dispose(Object.values(imagenetWeights));
        imagenet?.dispose();
        if (source !== teacher) source.dispose();
        teacher.dispose();
      }
    } finally {
      await run.close();
    }
  },
};

/** Where born-again generation g (1-based) writes, when there are several: `generation-1/` … under `--out`. */
function generationDirectories(generations: number): string[] {
  return generations === 1 ? [] : Array.from({ length: generations }, (_, index) => `generation-${index + 1}`);
}
