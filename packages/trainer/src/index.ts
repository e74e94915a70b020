export { createTrainer } from './trainer';
export type {
  EpochData,
  EpochSummary,
  FitOptions,
  FitResult,
  StepRecord,
  Trainer,
  TrainerContext,
  TrainerHooks,
  TrainerOptions,
} from './trainer';
export type { StepOutput, StepState, TrainableModel, TrainingStep } from './training-step';
export { teacherStep } from './teacher-step';
export type { TeacherStepOptions } from './teacher-step';
export { distillStep } from './distill-step';
export type { DistillStepOptions } from './distill-step';
export { checkBatch } from './batch';
export type { BatchArrays } from './batch';
export { adamWithL2, ADAM_GROUP_ELEMENTS } from './adam-with-l2';
export type { AdamState, AdamUpdateMode, AdamWithL2, AdamWithL2Options } from './adam-with-l2';
export { multiStepLr, milestoneRange } from './lr-schedule';
export type { MultiStepLr, MultiStepLrOptions } from './lr-schedule';
export { learningRateHook } from './lr-hook';
export { TEACHER_DEFAULTS, DISTILL_DEFAULTS, AUTHORS_SEED, teacherDefaultsFor } from './stage-defaults';
export type { DistillDefaults, StageDefaults } from './stage-defaults';
export { createStudent } from './create-student';
export type { CreateStudentOptions, LastStageInit } from './create-student';
export { startFromImagenet } from './imagenet-start';
export { measureFrameMemory, estimateStepBytes } from './step-memory';
export type { FrameMemory, StepBytes, StepShape } from './step-memory';
export type { ImagenetStartReport } from './imagenet-start';
export { createTrainingData } from './training-data';
export type { TrainingData, TrainingDataOptions, TrainingLoader, TrainingLoaderRequest } from './training-data';
export {
  saveCheckpoint,
  loadCheckpoint,
  loadModelFromCheckpoint,
  restoreCheckpoint,
  readCheckpointIndex,
  setModelWeights,
  CHECKPOINT_FILES,
  CHECKPOINT_INDEX,
  DEFAULT_WEIGHT_BOUND,
} from './checkpoint';
export type {
  CheckpointEntry,
  CheckpointIndex,
  CheckpointSource,
  CheckpointState,
  LoadedCheckpoint,
} from './checkpoint';
export { checkpointHook, checkpointName } from './checkpoint-hook';
export type { CheckpointHookOptions } from './checkpoint-hook';
export { divergenceHook } from './divergence-hook';
export type { DivergenceHookOptions } from './divergence-hook';
export { repairTrainingLog } from './training-log-repair';
export type { TrainingLogRepair } from './training-log-repair';
export { jsonlLogHook } from './jsonl-log-hook';
export type { JsonlLogHookOptions, TrainingLogEntry } from './jsonl-log-hook';
export { extractFeatures } from './extract-features';
export type { ExtractedFeatures } from './extract-features';
export { evaluateModel, defaultProtocols } from './evaluate-model';
export type {
  BatchSource,
  EvaluateModelOptions,
  EvaluationProgress,
  EvaluationProtocol,
  EvaluationReport,
  GalleryMode,
} from './evaluate-model';
export { evaluateHook, flattenReport } from './evaluate-hook';
export type { EvaluateHookOptions } from './evaluate-hook';
export { summarizeRanking } from './ranking-summary';
export type { CameraSummary, RankingSummary } from './ranking-summary';
