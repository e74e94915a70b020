import {
  badInputs,
  concurrentWriters,
  createFixture,
  explodingRuns,
  fullDisk,
  killAndResume,
  removeWork,
  resumeMismatches,
  tornLogThenResume,
  userFiles,
} from './attacks';
import { badFlagsAndConfigs } from './attacks-flags';
import { damagedFilesAndLayouts, metricsInputs } from './attacks-files';
import {
  badWeightFiles,
  concurrentGenerators,
  damagedRunFiles,
  resumeMismatchesMore,
  staleLockTakeover,
  userFilesEverywhere,
} from './attacks-runs';
import { seededUniform, type AttackResult } from './harness';

/** How many of each attack: `full` is the rerun for the table, `quick` the CI suite. */
export const ATTACK_PLAN = {
  full: {
    stepKills: 40,
    checkpointKills: 15,
    diskFractions: [0.02, 0.05, 0.1, 0.2, 0.3, 0.45, 0.6, 0.75, 0.9, 0.97],
    concurrent: 4,
    generators: 4,
    staleTakeovers: 3,
    matMutants: 6000,
    everything: true,
  },
  quick: {
    stepKills: 2,
    checkpointKills: 1,
    diskFractions: [0.1, 0.5],
    concurrent: 1,
    generators: 1,
    staleTakeovers: 0,
    matMutants: 2000,
    everything: false,
  },
} as const;

/**
 * Runs every attack of issue #13 against the CLI and libraries and classifies each attempt.
 * @param onResult told about each attempt as it finishes.
 * @returns the attempts and the attack groups that were skipped (with the reason).
 */
export async function runAttacks(
  plan: (typeof ATTACK_PLAN)[keyof typeof ATTACK_PLAN],
  onResult: (result: AttackResult) => void = () => {},
): Promise<{ results: AttackResult[]; skipped: string[] }> {
  const results: AttackResult[] = [];
  const skipped: string[] = [];
  const add = (result: AttackResult) => {
    results.push(result);
    onResult(result);
  };
  const fixture = await createFixture();
  try {
    const random = seededUniform(1897);
    for (let index = 0; index < plan.stepKills; index++) add(await killAndResume(fixture, index, 'step', random));
    for (let index = 0; index < plan.checkpointKills; index++)
      add(await killAndResume(fixture, 100 + index, 'checkpoint', random));
    add(await tornLogThenResume(fixture));
    const disk = await fullDisk(fixture, plan.diskFractions);
    if (typeof disk === 'string') skipped.push(`full disk: ${disk}`);
    else disk.forEach(add);
    for (let index = 0; index < plan.concurrent; index++) add(await concurrentWriters(fixture, index));
    (await userFiles(fixture)).forEach(add);
    (await resumeMismatches(fixture)).forEach(add);
    for (let index = 0; index < plan.generators; index++) add(await concurrentGenerators(index));
    for (let index = 0; index < plan.staleTakeovers; index++) add(await staleLockTakeover(fixture, index));
    (await explodingRuns(fixture)).forEach(add);
    (await badInputs(fixture, plan.matMutants)).forEach(add);
    // In this process (no process start per attempt): bad flags and configs, vkd-metrics inputs, damaged files.
    (await badFlagsAndConfigs({ data: fixture.data, reference: fixture.reference })).forEach(add);
    (await metricsInputs()).forEach(add);
    (await damagedFilesAndLayouts()).forEach(add);
    if (plan.everything) {
      (await userFilesEverywhere(fixture)).forEach(add);
      (await resumeMismatchesMore(fixture)).forEach(add);
      (await damagedRunFiles(fixture)).forEach(add);
      (await badWeightFiles(fixture)).forEach(add);
    }
  } finally {
    await removeWork();
  }
  return { results, skipped };
}
