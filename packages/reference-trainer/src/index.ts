// @vkd/reference-trainer is an application (the `vkd` command); its API is the command line run in-process, plus
// the types of the `metrics.json` it writes. Everything else is internal (tests import it from `src/` paths).
export { runCli, EXIT_FAILURE, EXIT_USAGE, VERSION } from './cli/run-cli';
export { COMMANDS } from './cli/commands';
export type { CommandDefinition, CommandInput, CommandIo } from './cli/command';
export type {
  CameraAccuracy,
  GalleryFramesPoint,
  LossPoint,
  ModelMetrics,
  ProtocolMetrics,
  RunMetrics,
} from './report/run-metrics';
