// Generates the WebAssembly text of the SIMD dot-product kernel used by @vkd/metrics (`pairwiseDistances`).
// out[i*outStride + j] (+)= sum_d a[i*dim + d] * b[j*dim + d] for blocks of MR rows of `a` × NR rows of `b`.
// With `shared`, the memory is imported (shared, up to 4 GiB) so that worker threads can run the same kernel on it.
export function gemmWat(MR, NR, { shared = false } = {}) {
  const lines = [];
  const acc = (i, j) => `$c${i}_${j}`;
  lines.push('(module');
  lines.push(shared ? '  (import "env" "memory" (memory 1 65536 shared))' : '  (memory (export "memory") 1)');
  // dots(a, b, out, rows, cols, dim, k0, k1, outStride, accumulate): rows % MR == 0, cols % NR == 0, (k1-k0) % 4 == 0.
  lines.push(
    '  (func (export "dots") (param $a i32) (param $b i32) (param $out i32) (param $rows i32) (param $cols i32)',
  );
  lines.push('        (param $dim i32) (param $k0 i32) (param $k1 i32) (param $outStride i32) (param $accumulate i32)');
  lines.push('    (local $i i32) (local $j i32) (local $k i32) (local $rowBytes i32) (local $o i32)');
  for (let i = 0; i < MR; i++) lines.push(`    (local $pa${i} i32)`);
  for (let j = 0; j < NR; j++) lines.push(`    (local $pb${j} i32)`);
  for (let i = 0; i < MR; i++) lines.push(`    (local $va${i} v128)`);
  lines.push('    (local $vb v128) (local $s f32)');
  for (let i = 0; i < MR; i++) for (let j = 0; j < NR; j++) lines.push(`    (local ${acc(i, j)} v128)`);
  lines.push('    (local.set $rowBytes (i32.shl (local.get $dim) (i32.const 2)))');
  lines.push('    (local.set $i (i32.const 0))');
  lines.push('    (block $iDone (loop $iLoop');
  lines.push('      (br_if $iDone (i32.ge_u (local.get $i) (local.get $rows)))');
  lines.push('      (local.set $j (i32.const 0))');
  lines.push('      (block $jDone (loop $jLoop');
  lines.push('        (br_if $jDone (i32.ge_u (local.get $j) (local.get $cols)))');
  for (let i = 0; i < MR; i++) {
    lines.push(
      `        (local.set $pa${i} (i32.add (local.get $a) (i32.add (i32.mul (i32.add (local.get $i) (i32.const ${i})) (local.get $rowBytes)) (i32.shl (local.get $k0) (i32.const 2)))))`,
    );
  }
  for (let j = 0; j < NR; j++) {
    lines.push(
      `        (local.set $pb${j} (i32.add (local.get $b) (i32.add (i32.mul (i32.add (local.get $j) (i32.const ${j})) (local.get $rowBytes)) (i32.shl (local.get $k0) (i32.const 2)))))`,
    );
  }
  for (let i = 0; i < MR; i++)
    for (let j = 0; j < NR; j++) lines.push(`        (local.set ${acc(i, j)} (v128.const i32x4 0 0 0 0))`);
  lines.push('        (local.set $k (local.get $k0))');
  lines.push('        (block $kDone (loop $kLoop');
  lines.push('          (br_if $kDone (i32.ge_u (local.get $k) (local.get $k1)))');
  for (let i = 0; i < MR; i++) lines.push(`          (local.set $va${i} (v128.load (local.get $pa${i})))`);
  for (let j = 0; j < NR; j++) {
    lines.push(`          (local.set $vb (v128.load (local.get $pb${j})))`);
    for (let i = 0; i < MR; i++)
      lines.push(
        `          (local.set ${acc(i, j)} (f32x4.add (local.get ${acc(i, j)}) (f32x4.mul (local.get $va${i}) (local.get $vb))))`,
      );
  }
  for (let i = 0; i < MR; i++) lines.push(`          (local.set $pa${i} (i32.add (local.get $pa${i}) (i32.const 16)))`);
  for (let j = 0; j < NR; j++) lines.push(`          (local.set $pb${j} (i32.add (local.get $pb${j}) (i32.const 16)))`);
  lines.push('          (local.set $k (i32.add (local.get $k) (i32.const 4)))');
  lines.push('          (br $kLoop)))');
  for (let i = 0; i < MR; i++) {
    for (let j = 0; j < NR; j++) {
      const c = acc(i, j);
      lines.push(
        `        (local.set $o (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (i32.add (local.get $i) (i32.const ${i})) (local.get $outStride)) (i32.add (local.get $j) (i32.const ${j}))) (i32.const 2))))`,
      );
      lines.push(
        `        (local.set $s (f32.add (f32.add (f32x4.extract_lane 0 (local.get ${c})) (f32x4.extract_lane 1 (local.get ${c}))) (f32.add (f32x4.extract_lane 2 (local.get ${c})) (f32x4.extract_lane 3 (local.get ${c})))))`,
      );
      lines.push(
        `        (if (local.get $accumulate) (then (local.set $s (f32.add (local.get $s) (f32.load (local.get $o))))))`,
      );
      lines.push(`        (f32.store (local.get $o) (local.get $s))`);
    }
  }
  lines.push(`        (local.set $j (i32.add (local.get $j) (i32.const ${NR})))`);
  lines.push('        (br $jLoop)))');
  lines.push(`      (local.set $i (i32.add (local.get $i) (i32.const ${MR})))`);
  lines.push('      (br $iLoop)))');
  lines.push('  )');
  lines.push(')');
  return lines.join('\n');
}
