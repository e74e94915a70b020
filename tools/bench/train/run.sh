#!/usr/bin/env bash
# The one script the GPU machine runs (gpu.md §3), from the repository root with .devkit carried along:
#   bash .devkit/run.sh            → $OUT/{gpu.txt, webgpu.jsonl, torch.jsonl, summary.json, run.log}
# Each workload of gpu-workloads.json runs on webgpu (ours) and on PyTorch CUDA in the same call; summary.json holds
# the ratios. Workloads run most important first; none starts after BUDGET_S (540) seconds.
# DRY_RUN=1 runs everything on the development VM instead: wasm backend, PyTorch CPU, tiny shapes, no debs.
set -uo pipefail
K=.devkit
OUT=${OUT:-$K/out}
mkdir -p "$OUT"
exec > >(tee -a "$OUT/run.log") 2>&1
DRY_RUN=${DRY_RUN:-0}
if [ "$DRY_RUN" = 1 ]; then
  DEVICE=wasm; TORCH_DEVICE=cpu; PYTHON=${PYTHON:-/usr/bin/python3}   # Debian's python3-torch on the dev VM
else
  DEVICE=webgpu; TORCH_DEVICE=cuda
  for f in $K/debs/*.deb; do dpkg -x "$f" / || exit 10; done   # Vulkan loader + glvnd, nothing else
  ldconfig || exit 10
  export VK_DRIVER_FILES=${VK_DRIVER_FILES:-/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json}
  [ -f "$VK_DRIVER_FILES" ] || export VK_DRIVER_FILES=/usr/share/vulkan/icd.d/nvidia_icd.json
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$OUT/gpu.txt"
fi
[ -x $K/node ] || { xz -dc $K/node.xz > $K/node && chmod +x $K/node; } || exit 11
[ -d $K/node_modules ] || tar xzf $K/nm.tgz -C $K || exit 11
$K/node --version
: > "$OUT/webgpu.jsonl"; : > "$OUT/torch.jsonl"
COUNT=$($K/node -e "console.log(require('./$K/bench/gpu-workloads.json').length)")
BUDGET_S=${BUDGET_S:-540}   # stop starting workloads after this many seconds (one call may run 600 s at most)
for i in $(seq 0 $((COUNT - 1))); do
  if [ "$SECONDS" -gt "$BUDGET_S" ]; then echo "== budget of ${BUDGET_S}s spent: skipping workloads $i..$((COUNT - 1))"; break; fi
  W=$($K/node -e "
    const w = require('./$K/bench/gpu-workloads.json')[$i];
    if ('$DRY_RUN' === '1') Object.assign(w, { backbone: 'resnet18', baseWidth: 8, height: 64, width: 32, steps: 2, warmup: 1,
      batch: w.workload === 'distill' ? 12 : 8, framesPerTracklet: w.framesPerTracklet ? (w.workload === 'distill' ? 3 : 2) : 1,
      teacherFrames: w.teacherFrames ? 24 : undefined, fastKernels: undefined }); // wasm has no built-in filter gradient
    console.log(JSON.stringify(w));")
  echo "== $W"
  timeout 140 $K/node $K/bench/train-bench.mjs "$($K/node -e "console.log(JSON.stringify({...$W, device: '$DEVICE'}))")" \
    | tail -1 | tee -a "$OUT/webgpu.jsonl"
  timeout 70 ${PYTHON:-python3} $K/bench/torch_train_step.py "$($K/node -e "console.log(JSON.stringify({...$W, device: '$TORCH_DEVICE'}))")" \
    | tail -1 | tee -a "$OUT/torch.jsonl"
done
$K/node -e "
  const fs = require('fs');
  const read = (f) => fs.readFileSync(f, 'utf8').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
  const ours = read('$OUT/webgpu.jsonl'), torch = read('$OUT/torch.jsonl');
  const rows = ours.map((o) => { const t = torch.find((x) => x.name === o.name);
    return { name: o.name, oursImagesPerSecond: o.imagesPerSecond, torchImagesPerSecond: t?.imagesPerSecond,
      ratio: t ? Math.round((o.imagesPerSecond / t.imagesPerSecond) * 1000) / 1000 : null, memory: o.memory }; });
  fs.writeFileSync('$OUT/summary.json', JSON.stringify({ dryRun: '$DRY_RUN' === '1', rows }, null, 2));
  console.table(rows.map(({ memory, ...r }) => r));"
