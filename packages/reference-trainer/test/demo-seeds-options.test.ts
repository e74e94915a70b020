import { tmpdir } from 'node:os';
import { describe, expect, it, vi } from 'vitest';
import { vkd } from './support/vkd';

// Bad --seeds values must be refused before the (slow) backend selection; the mock records whether it was reached.
const activateDevice = vi.hoisted(() =>
  vi.fn(async () => {
    throw new Error('backend selected');
  }),
);
vi.mock('../src/run/activate-device', () => ({ activateDevice }));

describe('vkd demo --seeds', () => {
  it('refuses 0 or 1 seeds, repeated seeds, non-integers and negative seeds with a clear message', async () => {
    const cases: Array<[string, RegExp]> = [
      [
        '0',
        /Invalid --seeds: 0\. A spread over seeds needs at least 2 of them\. Give a seed count of at least 2 \(e\.g\. --seeds 5/,
      ],
      ['1', /Invalid --seeds: 1\. A spread over seeds needs at least 2/],
      ['3,3', /Invalid --seeds: \[3, 3\]\. Seed 3 appears twice/],
      ['1.5', /Invalid --seeds: "1\.5"\. Expected a comma-separated list of integers.*item 1\.5 is not valid/],
      ['0,a,2', /Invalid --seeds: "0,a,2"\. Expected a comma-separated list of integers.*item a is not valid/],
      ['-1,2', /Invalid --seeds/],
      // A count is capped where the option is declared (4294967295 once meant an array of 4 billion seeds).
      ['4294967295', /Invalid --seeds: 4294967295\. At most 100 seeds: each runs the whole demo/],
      ['101', /Invalid --seeds: 101\. At most 100 seeds/],
      [Array.from({ length: 101 }, (_, index) => index).join(','), /Invalid --seeds: "101 seeds"\. At most 100 seeds/],
    ];
    for (const [value, message] of cases) {
      const result = await vkd(['demo', '--seeds', value, '--out', tmpdir()]);
      expect(result.code, value).toBe(2);
      expect(result.stderr, value).toMatch(message);
    }
    expect(activateDevice).not.toHaveBeenCalled();
  });

  it('--help lists --seeds and --ablation', async () => {
    const help = await vkd(['demo', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--seeds <n\|list>/);
    expect(help.stdout).toMatch(/--ablation/);
  });
});

describe('single-seed noise line', () => {
  it('quotes the measured spread over seeds for the full demo, not for --quick', async () => {
    const { singleSeedNoise, DEMO_SEED_SPREAD } = await import('../src/commands/demo');
    expect(singleSeedNoise(false)).toMatch(
      new RegExp(`standard deviation of ${DEMO_SEED_SPREAD.teacher.mAP.toFixed(1)} I2V mAP`),
    );
    expect(singleSeedNoise(false)).toMatch(/`vkd demo --seeds 5`/);
    expect(singleSeedNoise(true)).not.toMatch(/standard deviation/);
  });
});
