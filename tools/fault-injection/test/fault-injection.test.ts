import { describe, expect, it } from 'vitest';
import { formatTable, OUTCOMES } from '../src/harness';
import { ATTACK_PLAN, runAttacks } from '../src/run-attacks';

// The fault-injection suite of issue #13 at CI size (the full rerun: `tsx --conditions=@vkd/source
// tools/fault-injection/src/main.ts`, which writes tools/fault-injection/results.md): kill -9 at random steps and
// mid-checkpoint then --resume (bit-exact losses and weights), a torn log line, a full disk on a small tmpfs (root
// only: skipped with the reason otherwise), two concurrent writers, user files under a regenerated set and a run
// directory, --resume with changed settings, NaN weights and divergence, and the inputs that once crashed.
describe('fault injection', () => {
  it('loses no data and gives no silently wrong result: every attack ends correct or with a clear typed error', async () => {
    const { results, skipped } = await runAttacks(ATTACK_PLAN.quick);
    for (const reason of skipped) console.log(`fault injection: ${reason}`);
    console.log(formatTable(results));
    const bad = results.filter(
      (result) => result.outcome !== 'clear typed error' && result.outcome !== 'handled (correct result)',
    );
    expect(bad.map((result) => `${result.outcome}: ${result.attack}: ${result.detail}`)).toEqual([]);
    expect(results.length).toBeGreaterThan(25);
    expect(results.filter((result) => result.outcome === 'handled (correct result)').length).toBeGreaterThanOrEqual(4);
    expect(OUTCOMES).toContain('data lost or corrupted');
  }, 600_000);
});
