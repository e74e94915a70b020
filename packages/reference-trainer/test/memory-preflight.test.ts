import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { syntheticSetInTempFolder } from './support/synthetic-set';
import { vkd } from './support/vkd';

let directory: string;
let root: string;

beforeAll(async () => {
  // A small tree in the MARS layout (bbox_train/, bbox_test/, info/*.mat) with the 8 training identities P needs.
  ({ directory, root } = await syntheticSetInTempFolder(
    'vkd-preflight-',
    { identities: 16, cameras: 2, framesPerTracklet: 8, height: 32, width: 16 },
    'mars',
  ));
}, 60_000);

/** `vkd train-teacher --preset mars-resnet50` on the MARS-layout set, on wasm, with `extra` flags, into `out`. */
const marsTeacherOnWasm = (out: string, extra: string[] = []) =>
  vkd([
    ...['train-teacher', '--preset', 'mars-resnet50', '--imagenet-weights', 'none'],
    ...['--dataset', 'mars', '--root', root, '--device', 'wasm', ...extra, '--out', out],
  ]);

describe('batch-memory preflight', () => {
  // Before: `RangeError: Invalid typed array length: 134217728` after ~1.5 minutes inside the first step (wasm heap full).
  it("refuses the authors' MARS ResNet-50 teacher batch on wasm before training, with the figure and what to change", async () => {
    const out = join(directory, 'run');
    const { code, stdout, stderr } = await marsTeacherOnWasm(out);
    expect(stderr).not.toMatch(/RangeError|unexpected error/);
    expect(code).toBe(2);
    expect(stdout).toMatch(
      /memory: \d+ MiB per training frame \(resnet50 256×128, measured on wasm\); batch P·K = 32 tracklets × 8 frames = 256 frames: about \d+\.\d GiB/,
    );
    expect(stderr).toMatch(
      /Invalid batch: "8×4×8 = 256 frames". This batch needs about (\d+)\.\d GiB, more than the wasm heap 4\.0 GiB/,
    );
    const needed = Number(/needs about (\d+\.\d) GiB/.exec(stderr)?.[1]);
    // ResNet-50 at 256×128: the estimate is 90–150 MB per frame (tools/bench/train/results/step-memory.json): 256
    // frames ≈ 23–40 GB.
    expect(needed).toBeGreaterThan(15);
    expect(needed).toBeLessThan(45);
    expect(stderr).toMatch(/--device webgpu or --device tensorflow on a GPU with at least \d+\.\d GiB/);
    // Even --recompute (~45 MB per frame: 11 GiB) does not fit 256 frames in 4 GiB, so it is not offered.
    expect(stderr).not.toMatch(/--recompute/);
    // At ~90 MB per frame about 40 frames fit in 4 GiB: P = 2 (K = 4) with fewer frames per tracklet.
    expect(stderr).toMatch(
      /or a smaller batch: --identities-per-batch 2 --frames-per-tracklet [2-6] \((\d+) frames, about \d\.\d GiB\) fits; --identities-per-batch \(now 8\) and --frames-per-tracklet \(now 8\) trade off/,
    );
    expect(stdout).not.toMatch(/teacher epoch/);
  }, 180_000);

  it('offers --recompute when it makes the batch fit (ResNet-50 256×128, 2×4×8 = 64 frames on wasm)', async () => {
    const { code, stdout, stderr } = await marsTeacherOnWasm(join(directory, 'run-64'), [
      '--identities-per-batch',
      '2',
    ]);
    expect(code).toBe(2);
    expect(stdout).not.toMatch(/teacher epoch/);
    // ~90 MB per frame without recomputation (5.6 GiB), ~45 MB with it (3 GiB).
    expect(stderr).toMatch(
      /Invalid batch: "2×4×8 = 64 frames". This batch needs about \d\.\d GiB, more than the wasm heap 4\.0 GiB .* To train: add --recompute \(\d+ MiB per frame, about \d\.\d GiB: fits; about one more forward pass of time per step\); or run it on a device/,
    );
  }, 180_000);
  /** A 1-epoch cpu teacher of base width 16 on 32×16 frames, 2×2 tracklets of 2 frames, no ImageNet start. */
  const smallTeacher = (backbone: string, extra: string[]) => [
    'train-teacher',
    ...['--dataset', 'mars', '--root', root, '--backbone', backbone, '--base-width', '16'],
    ...['--height', '32', '--width', '16', '--epochs', '1'],
    ...['--identities-per-batch', '2', '--instances-per-identity', '2', '--frames-per-tracklet', '2'],
    ...['--imagenet-weights', 'none', '--device', 'cpu', ...extra],
  ];
  // Before: --recompute on a backbone without ResNet stages was accepted and trained exactly as without it.
  it('refuses --recompute on a backbone it does not apply to (mobilenet), naming the option and what to do', async () => {
    const { code, stdout, stderr } = await vkd(
      smallTeacher('mobilenet', ['--recompute', '--out', join(directory, 'run-mobilenet')]),
    );
    expect(code).toBe(2);
    expect(stdout).not.toMatch(/teacher epoch/);
    expect(stderr).toContain(
      'Invalid --recompute: true. It recomputes ResNet stages only; the mobilenet backbone would train exactly as without it (same memory). Remove --recompute, or use a resnet backbone.',
    );
  }, 120_000);
  // Before: `memory: 0 MiB per training frame` for a small network (sizes under 1 MiB rounded to 0 MiB).
  it('prints sizes under 1 MiB in KiB, not as 0 MiB', async () => {
    const { code, stdout } = await vkd(
      smallTeacher('resnet18', ['--eval-every', '0', '--out', join(directory, 'run-small')]),
    );
    expect(code).toBe(0);
    expect(stdout).toMatch(/memory: [1-9]\d* KiB per training frame \(resnet18 32×16, measured on cpu\)/);
    expect(stdout).not.toMatch(/\b0 MiB/);
  }, 120_000);
});
