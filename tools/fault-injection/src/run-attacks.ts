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
import { seededUniform, type AttackResult } from './harness';

/** How many of each attack: `full` is the rerun for the table, `quick` the CI suite. */
export const ATTACK_PLAN = {
  full: { stepKills: 6, checkpointKills: 3, diskFractions: [0.02, 0.1, 0.3, 0.6, 0.9], concurrent: 2 },
  quick: { stepKills: 2, checkpointKills: 1, diskFractions: [0.1, 0.5], concurrent: 1 },
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
    (await explodingRuns(fixture)).forEach(add);
    (await badInputs(fixture)).forEach(add);
  } finally {
    await removeWork();
  }
  return { results, skipped };
}
