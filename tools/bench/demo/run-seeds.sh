#!/usr/bin/env bash
# Runs the multi-seed demo benchmark exactly as PROTOCOL.md fixes it and copies its results into tools/bench/results/.
set -euo pipefail
cd "$(dirname "$0")/../../.."
out="${1:-/tmp/vkd-demo-seeds}"
results=tools/bench/results
start=$(date -u +%FT%TZ)
SECONDS=0
CI=true npx -y pnpm@10.34.9 vkd demo --seeds 0,1,2,3,4 --ablation --out "$out" --device wasm 2>&1 | tee "$out.log"
elapsed=$SECONDS
cp "$out/benchmark.json" "$results/demo-seeds.json"
{
  echo "command: CI=true pnpm vkd demo --seeds 0,1,2,3,4 --ablation --out $out --device wasm"
  echo "commit: $(git rev-parse HEAD)"
  echo "started: $start, wall time: ${elapsed} s, machine: $(nproc) cores, shared"
  echo
  cat "$out.log"
} > "$results/demo-seeds.txt"
