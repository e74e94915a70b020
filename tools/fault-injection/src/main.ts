import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { formatTable, REPOSITORY } from './harness';
import { ATTACK_PLAN, runAttacks } from './run-attacks';

// `node_modules/.bin/tsx --conditions=@vkd/source tools/fault-injection/src/main.ts [--quick]`: reruns the attacks and
// writes tools/fault-injection/results.md (the table per outcome class, then every attempt).
const quick = process.argv.includes('--quick');
const loadAverage = () =>
  loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');
const loadBefore = loadAverage();
const started = performance.now();
const { results, skipped } = await runAttacks(quick ? ATTACK_PLAN.quick : ATTACK_PLAN.full, (result) => {
  process.stdout.write(`${result.outcome.padEnd(28)} ${result.attack}: ${result.detail}\n`);
});
const seconds = (performance.now() - started) / 1000;
const table = formatTable(results);
const git = (...args: string[]) => execFileSync('git', args, { cwd: REPOSITORY, encoding: 'utf8' }).trim();
const commit = `${git('rev-parse', '--short', 'HEAD')}${git('status', '--porcelain', '--untracked-files=no') === '' ? '' : ' + uncommitted changes'}`;
const lines = [
  `# Fault-injection rerun (${quick ? 'quick' : 'full'} plan)`,
  '',
  `Date ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}, commit ${commit}, ${seconds.toFixed(0)} s wall, uid ${process.getuid?.()}, ` +
    `load average before/after ${loadBefore} / ${loadAverage()}. Command:`,
  '',
  `    ${process.env.VKD_FAULT_COMMAND ?? `node_modules/.bin/tsx --conditions=@vkd/source tools/fault-injection/src/main.ts${quick ? ' --quick' : ''}`}`,
  '',
  'Each row of the second table is one attempt; "2000/6000 mutated .mat files" is one attempt (every failure must be',
  'a DatasetFormatError).',
  '',
  table,
  '',
  ...(skipped.length > 0 ? [`Skipped: ${skipped.join('; ')}`, ''] : []),
  '| attack | outcome | detail |',
  '|---|---|---|',
  ...results.map(
    (result) => `| ${result.attack} | ${result.outcome} | ${result.detail.replace(/\|/g, '\\|').replace(/\n/g, ' ')} |`,
  ),
  '',
];
await writeFile(join(REPOSITORY, 'tools/fault-injection/results.md'), lines.join('\n'));
process.stdout.write(`\n${table}\n`);
const bad = results.filter(
  (result) => result.outcome !== 'clear typed error' && result.outcome !== 'handled (correct result)',
);
process.exitCode = bad.length > 0 ? 1 : 0;
