/**
 * The CLI's I/O for a test: stdout and stderr captured as text, `CI=true` (no progress bars), working directory `cwd`.
 */
export function capturingIo(cwd: string) {
  let stdout = '';
  let stderr = '';
  const io = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env: { CI: 'true' },
    cwd,
  };
  return { io, output: () => ({ stdout, stderr }) };
}
