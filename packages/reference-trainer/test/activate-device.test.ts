import { convolutionThreads, setConvolutionThreads } from '@vkd/backends';
import { afterAll, describe, expect, it } from 'vitest';
import { activateDevice } from '../src/run/activate-device';
import { createRunLog } from '../src/run/run-log';
import { capturingIo } from './support/capturing-io';

function collectingLog() {
  const { io, output } = capturingIo(process.cwd());
  return { log: createRunLog(io, false), output };
}

const initialThreads = convolutionThreads();
afterAll(() => setConvolutionThreads(initialThreads));

describe('activateDevice', () => {
  // Before: `--device cpu --threads 1` was accepted without a word although only the wasm kernels use --threads.
  it('warns that --threads does nothing on a backend other than wasm', async () => {
    const { log, output } = collectingLog();
    const active = await activateDevice('cpu', log, 1);
    expect(active.backend).toBe('cpu');
    expect(output().stderr).toContain(
      '--threads 1 sets the threads of the wasm kernels only; the cpu backend ignores it (remove it, or use --device wasm).',
    );
    const quiet = collectingLog();
    await activateDevice('cpu', quiet.log);
    expect(quiet.output().stderr).toBe('');
  });
});
