import { datasetsCommand } from '../commands/datasets';
import { demoCommand } from '../commands/demo';
import { distillCommand } from '../commands/distill';
import { evaluateCommand } from '../commands/evaluate';
import { importWeightsCommand } from '../commands/import-weights';
import { indexCommand } from '../commands/index-gallery';
import { searchCommand } from '../commands/search-gallery';
import { reportCommand } from '../commands/report';
import { trainTeacherCommand } from '../commands/train-teacher';
import type { CommandDefinition } from './command';

/** Every `vkd` subcommand, in `--help` order. */
export const COMMANDS: readonly CommandDefinition[] = Object.freeze([
  demoCommand,
  trainTeacherCommand,
  distillCommand,
  evaluateCommand,
  importWeightsCommand,
  indexCommand,
  searchCommand,
  reportCommand,
  datasetsCommand,
]);
