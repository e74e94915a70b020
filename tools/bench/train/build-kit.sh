#!/usr/bin/env bash
# Builds the GPU benchmark kit in the git-ignored .devkit/ (gpu.md §2): portable Node, pruned flat node_modules,
# Vulkan loader + glvnd debs, the bundled benchmark and the PyTorch reference. Run on the development VM from the
# repository root: `bash tools/bench/train/build-kit.sh`. Then, on the GPU machine (with .devkit carried along):
# `bash .devkit/run.sh`. Dry run here (wasm + PyTorch CPU, tiny shapes) in a copy, so that the unpacked Node and
# node_modules never land in .devkit/ (they would not fit the 64 MiB transfer):
#   rm -rf /tmp/kitroot && mkdir /tmp/kitroot && cp -r .devkit /tmp/kitroot/ && (cd /tmp/kitroot && DRY_RUN=1 OUT=/tmp/kit-out bash .devkit/run.sh)
set -euo pipefail
ROOT=$(pwd)
K=$ROOT/.devkit
[ -f "$ROOT/pnpm-workspace.yaml" ] || { echo "run from the repository root" >&2; exit 2; }
grep -qx '.devkit/' "$ROOT/.gitignore" || grep -qx '/.devkit/' "$ROOT/.git/info/exclude" 2>/dev/null \
  || { echo "add '/.devkit/' to .git/info/exclude first (it must never be committed)" >&2; exit 2; }
mkdir -p "$K/bench" "$K/debs"

# 1. Node 20 (this VM's binary; the kit's node must match the tfjs bundle's target).
case "$(node --version)" in v20.*) ;; *) echo "need Node 20, have $(node --version)" >&2; exit 3 ;; esac
if [ ! -s "$K/node.xz" ]; then xz -9 -T2 -c "$(command -v node)" > "$K/node.xz.tmp" && mv "$K/node.xz.tmp" "$K/node.xz"; fi

# 2. Flat node_modules (npm, not pnpm: no symlink tree), pruned to linux-x64, no maps, no browser bundles.
if [ ! -s "$K/nm.tgz" ]; then
  SCRATCH=$(mktemp -d)
  trap 'rm -rf "$SCRATCH"' EXIT
  (cd "$SCRATCH" && echo '{"private":true}' > package.json && npm install --no-audit --no-fund --ignore-scripts \
    @tensorflow/tfjs-core@4.22.0 @tensorflow/tfjs-backend-cpu@4.22.0 @tensorflow/tfjs-backend-wasm@4.22.0 \
    @tensorflow/tfjs-layers@4.22.0 @tensorflow/tfjs-backend-webgpu@4.22.0 webgpu@0.6.2 >/dev/null)
  NM=$SCRATCH/node_modules
  find "$NM/webgpu/dist" -mindepth 1 -maxdepth 1 -type d ! -name linux-x64 -exec rm -rf {} +
  find "$NM" -name '*.map' -delete
  for pkg in "$NM"/@tensorflow/*; do
    find "$pkg/dist" -maxdepth 1 -name 'tf-*.js' ! -name 'tf-*.node.js' -delete
    rm -rf "$pkg/dist/miniprogram" "$pkg/src"
  done
  tar czf "$K/nm.tgz" -C "$SCRATCH" node_modules
fi

# 3. Vulkan loader and GL dispatch libraries for the NVIDIA ICD (the GPU machine has none, and no network).
if ! ls "$K"/debs/libvulkan1_*.deb >/dev/null 2>&1; then
  (cd "$K/debs" && apt-get download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
fi

# 4. The benchmark, bundled with the @vkd/* sources; @tensorflow/* and webgpu resolve from the kit's node_modules.
node --input-type=module -e "
  import { bundle } from '$ROOT/tools/bench/train/bundle.mjs';
  await bundle({ entry: '$ROOT/tools/bench/train/train-bench.ts', outfile: '$K/bench/train-bench.mjs', mode: 'kit' });"
cp "$ROOT/tools/bench/train/torch_train_step.py" "$ROOT/tools/bench/train/gpu-workloads.json" "$K/bench/"
cp "$ROOT/tools/bench/train/run.sh" "$K/run.sh"
du -sh "$K"/* | sort -h
echo "kit total: $(du -sh "$K" | cut -f1) (must stay well under 64 MiB with the repository)"
