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
    registerBackbone({ ...getBackbone('resnet50'), name: 'resnet50-wide-test', description: 'test entry' });
    const general = await vkd(['--help']);
    expect(general.stdout).toMatch(/Backbones \(--backbone\): resnet18, resnet34, resnet50, resnet101.*resnet50-wide-test/);
    const help = await vkd(['train-teacher', '--help']);
    expect(help.stdout).toMatch(/--backbone <resnet18\|resnet34\|resnet50\|resnet101\|[^>]*resnet50-wide-test>/);
    expect(help.stdout).toMatch(/--attention <none\|bam>\s+BAM attention \(resnet50, resnet101, [^)]*resnet50-wide-test\)/);
    const input = await resolveCommandInput(command('train-teacher'), ['--backbone', 'resnet50-wide-test', '--attention', 'bam'], tmpdir());
    expect(input.options.backbone).toBe('resnet50-wide-test');
  });
});
