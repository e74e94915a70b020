import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { getBackbone, registerBackbone } from '@vkd/models';
import { COMMANDS } from '../src/cli/commands';
import { resolveCommandInput, runCli } from '../src/cli/run-cli';

async function vkd(argv: string[]) {
  let stdout = '';
  let stderr = '';
  const io = { stdout: { write: (text: string) => (stdout += text) }, stderr: { write: (text: string) => (stderr += text) }, env: { CI: 'true' }, cwd: tmpdir() };
  const code = await runCli(argv, io, COMMANDS);
  return { code, stdout, stderr };
}

const command = (name: string) => COMMANDS.find((candidate) => candidate.name === name) as (typeof COMMANDS)[number];

describe('the CLI reads its choices from the @vkd/models backbone registry', () => {
  it('a backbone registered after the CLI loaded is listed in --help and accepted by --backbone', async () => {
    expect((await vkd(['train-teacher', '--backbone', 'resnet50-wide-test', '--out', '/o'])).stderr).toMatch(
      /Invalid --backbone: "resnet50-wide-test". Expected one of: resnet18, resnet34, resnet50, resnet101/,
    );
    registerBackbone({ ...getBackbone('resnet50'), name: 'resnet50-wide-test', description: 'test entry', aliases: {} });
    const general = await vkd(['--help']);
    expect(general.stdout).toMatch(/Backbones \(--backbone\): resnet18, resnet34, resnet50 .*resnet101 .*resnet50-wide-test/);
    const help = await vkd(['train-teacher', '--help']);
    expect(help.stdout).toMatch(/--backbone <resnet18\|resnet34\|resnet50\|resnet101\|[^>]*resnet50-wide-test[|>]/);
    expect(help.stdout).toMatch(/--attention <none\|bam>\s+BAM attention \(resnet50, resnet101, [^)]*resnet50-wide-test\)/);
    const input = await resolveCommandInput(command('train-teacher'), ['--backbone', 'resnet50-wide-test', '--attention', 'bam'], tmpdir());
    expect(input.options.backbone).toBe('resnet50-wide-test');
  });
});

describe('the authors’ backbone names on the CLI', () => {
  it('accepts densenet121, mobilenet, resnet50bam / resnet101bam (= resnet50 / resnet101 + --attention bam)', async () => {
    const { modelSettings } = await import('../src/config/stage-settings');
    for (const [argv, expected] of [
      [['--backbone', 'densenet121'], { backbone: 'densenet121', attention: 'none' }],
      [['--backbone', 'mobilenet'], { backbone: 'mobilenet', attention: 'none' }],
      [['--backbone', 'resnet50bam'], { backbone: 'resnet50', attention: 'bam' }],
      [['--backbone', 'resnet101bam', '--attention', 'bam'], { backbone: 'resnet101', attention: 'bam' }],
      [['--backbone', 'resnet50', '--attention', 'bam'], { backbone: 'resnet50', attention: 'bam' }],
    ] as const) {
      const input = await resolveCommandInput(command('train-teacher'), [...argv], tmpdir());
      expect(modelSettings(input.options)).toEqual({ ...expected, baseWidth: 64 });
    }
    const help = await vkd(['train-teacher', '--help']);
    expect(help.stdout).toMatch(/--backbone <[^>]*densenet121\|mobilenet[^>]*resnet50bam\|resnet101bam[^>]*>/);
  });

  it('refuses resnet50bam with --attention none, naming the option', async () => {
    const argv = ['--dataset', 'mars', '--backbone', 'resnet50bam', '--attention', 'none', '--root', '/d', '--out', '/o'];
    const { stderr, code } = await vkd(['train-teacher', ...argv]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/Invalid --attention: "none". "resnet50bam" is resnet50 with attention "bam"/);
  });
});
