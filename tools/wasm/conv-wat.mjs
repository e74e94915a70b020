// Generates the WebAssembly text of the SIMD convolution kernels used by @vkd/backends on the wasm backend.
// Both are outer-product micro-kernels (no horizontal sums) whose rows are read through tables of byte addresses,
// so that im2col is never materialised: a table entry points at one pixel of the input (or at a zero buffer for
// padding), and strides, padding, phases and taps all live in the tables that JavaScript builds.
//
// rows(aTable, taps, t0, t1, seg, b, ldb, bTapStride, jScale, outTable, i0, i1, j0, j1, accumulate)
//   For i in [i0, i1) (step MR) and j in [j0, j1) (step NR, in floats):
//   out[outTable[i + r]][j + c] (+)= Σ_{t ∈ [t0, t1)} Σ_{s < seg} A[aTable[(i + r)·taps + t] + 4s] · B[b + t·bTapStride + s·ldb + j·jScale + 4c]
//   (forward: A = input pixels, B = the filter [kh·kw·ci, co] packed in panels of NR columns; input gradient:
//   A = dy pixels, B = the filter's [tap, co, ci] taps packed likewise; packed: ldb = 4·NR, jScale = 4·depth).
// filter(xTable, taps, t, x, panelStride, dy, lddy, jScale, m0, m1, out, ldo, r0, r1, j0, j1, accumulate)
//   For r in [r0, r1) (step 4, input channels) and j in [j0, j1) (step NR, output channels):
//   out[(r + q)·ldo + 4(j + c)] (+)= Σ_{m ∈ [m0, m1)} X[x + (r/4)·panelStride + xTable[m·taps + t] + 4q] · DY[dy + m·lddy + j·jScale + 4c]
//   (the filter gradient of one tap; x is packed in panels of 4 channels, [C/4][pixel][4], so that consecutive
//   pixels are 16 bytes apart — raw NHWC rows 2–8 KB apart all fell into one L1 set; the table holds pixel·16 byte
//   offsets within a panel; dy is packed in panels of NR channels: lddy = 4·NR, jScale = 4·rows).
// pack4(src, pixels, ld, groups, dst, panelStride): dst[g·panelStride/4 + p·4 + q] = src[p·ld + 4g + q] for g < groups
//   (4-channel groups of rows `ld` floats long; src needs 16 bytes of slack when ld % 4 ≠ 0).
// gemv(a, b, rows, cols, out, j0, j1): out[j] = Σ_k a[k]·b[k·cols + j] for j in [j0, j1) (multiples of 4):
//   a one-row matrix product (BatchNorm's column sums are ones · x).
// maxPoolGrad(x, dy, dx, …): the gradient of a max pool, routed to the first maximum of each window (see below).
// pack(src, rows, ld, cols, dst): dst[(p·rows + k)·NR + c] = src[k·ld + p·NR + c] (panels of NR of the first `cols`
//   columns of rows `ld` floats long, cols % NR == 0).
// packTransposed(src, rows, cols, dst, panelStride): for each panel p of NR rows of src [rows, cols] and column k:
//   dst[p·panelStride/4 + k·NR + q] = src[(p·NR + q)·cols + k] (rows % NR == 0; the transposed matrix, packed).
// With `shared`, the memory is imported (shared, up to 4 GiB) so that worker threads can run the kernels on it.
export function convWat(MR, NR, { shared = false } = {}) {
  const NV = NR / 4;
  const L = [];
  const acc = (r, v) => `$c${r}_${v}`;
  L.push('(module');
  L.push(shared ? '  (import "env" "memory" (memory 1 65536 shared))' : '  (memory (export "memory") 1)');

  // ---- rows ----
  L.push(
    '  (func (export "rows") (param $aTable i32) (param $taps i32) (param $t0 i32) (param $t1 i32) (param $seg i32)',
  );
  L.push('        (param $b i32) (param $ldb i32) (param $bTapStride i32) (param $jScale i32) (param $outTable i32)');
  L.push('        (param $i0 i32) (param $i1 i32) (param $j0 i32) (param $j1 i32) (param $accumulate i32)');
  L.push(
    '    (local $i i32) (local $j i32) (local $t i32) (local $s i32) (local $pb i32) (local $row i32) (local $end i32)',
  );
  for (let r = 0; r < MR; r++) L.push(`    (local $pa${r} i32) (local $po${r} i32) (local $a${r} v128)`);
  for (let v = 0; v < NV; v++) L.push(`    (local $b${v} v128)`);
  for (let r = 0; r < MR; r++) for (let v = 0; v < NV; v++) L.push(`    (local ${acc(r, v)} v128)`);
  L.push('    (local.set $i (local.get $i0))');
  L.push('    (block $iDone (loop $iLoop');
  L.push('      (br_if $iDone (i32.ge_u (local.get $i) (local.get $i1)))');
  for (let r = 0; r < MR; r++) {
    L.push(
      `      (local.set $po${r} (i32.load (i32.add (local.get $outTable) (i32.shl (i32.add (local.get $i) (i32.const ${r})) (i32.const 2)))))`,
    );
  }
  L.push('      (local.set $j (local.get $j0))');
  L.push('      (block $jDone (loop $jLoop');
  L.push('        (br_if $jDone (i32.ge_u (local.get $j) (local.get $j1)))');
  L.push('        (if (local.get $accumulate) (then');
  for (let r = 0; r < MR; r++)
    for (let v = 0; v < NV; v++) {
      L.push(
        `          (local.set ${acc(r, v)} (v128.load offset=${16 * v} (i32.add (local.get $po${r}) (i32.shl (local.get $j) (i32.const 2)))))`,
      );
    }
  L.push('        ) (else');
  for (let r = 0; r < MR; r++)
    for (let v = 0; v < NV; v++) L.push(`          (local.set ${acc(r, v)} (v128.const i32x4 0 0 0 0))`);
  L.push('        ))');
  L.push('        (local.set $t (local.get $t0))');
  L.push('        (block $tDone (loop $tLoop');
  L.push('          (br_if $tDone (i32.ge_u (local.get $t) (local.get $t1)))');
  L.push(
    '          (local.set $row (i32.add (local.get $aTable) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $taps)) (local.get $t)) (i32.const 2))))',
  );
  for (let r = 0; r < MR; r++) {
    L.push(
      `          (local.set $pa${r} (i32.load (i32.add (local.get $row) (i32.shl (i32.mul (local.get $taps) (i32.const ${r})) (i32.const 2)))))`,
    );
  }
  L.push(
    '          (local.set $pb (i32.add (i32.add (local.get $b) (i32.mul (local.get $t) (local.get $bTapStride))) (i32.mul (local.get $j) (local.get $jScale))))',
  );
  L.push('          (local.set $end (i32.add (local.get $pa0) (i32.shl (local.get $seg) (i32.const 2))))');
  L.push('          (block $sDone (loop $sLoop');
  L.push('            (br_if $sDone (i32.ge_u (local.get $pa0) (local.get $end)))');
  for (let v = 0; v < NV; v++) L.push(`            (local.set $b${v} (v128.load offset=${16 * v} (local.get $pb)))`);
  for (let r = 0; r < MR; r++) {
    L.push(`            (local.set $a${r} (v128.load32_splat (local.get $pa${r})))`);
    for (let v = 0; v < NV; v++) {
      L.push(
        `            (local.set ${acc(r, v)} (f32x4.add (local.get ${acc(r, v)}) (f32x4.mul (local.get $a${r}) (local.get $b${v}))))`,
      );
    }
  }
  for (let r = 0; r < MR; r++) L.push(`            (local.set $pa${r} (i32.add (local.get $pa${r}) (i32.const 4)))`);
  L.push('            (local.set $pb (i32.add (local.get $pb) (local.get $ldb)))');
  L.push('            (br $sLoop)))');
  L.push('          (local.set $t (i32.add (local.get $t) (i32.const 1)))');
  L.push('          (br $tLoop)))');
  for (let r = 0; r < MR; r++)
    for (let v = 0; v < NV; v++) {
      L.push(
        `        (v128.store offset=${16 * v} (i32.add (local.get $po${r}) (i32.shl (local.get $j) (i32.const 2))) (local.get ${acc(r, v)}))`,
      );
    }
  L.push(`        (local.set $j (i32.add (local.get $j) (i32.const ${NR})))`);
  L.push('        (br $jLoop)))');
  L.push(`      (local.set $i (i32.add (local.get $i) (i32.const ${MR})))`);
  L.push('      (br $iLoop)))');
  L.push('  )');

  // ---- filter ----
  L.push(
    '  (func (export "filter") (param $xTable i32) (param $taps i32) (param $t i32) (param $x i32) (param $panelStride i32)',
  );
  L.push('        (param $dy i32) (param $lddy i32) (param $jScale i32)');
  L.push('        (param $m0 i32) (param $m1 i32) (param $out i32) (param $ldo i32)');
  L.push('        (param $r0 i32) (param $r1 i32) (param $j0 i32) (param $j1 i32) (param $accumulate i32)');
  L.push(
    '    (local $r i32) (local $j i32) (local $px i32) (local $pd i32) (local $endx i32) (local $o i32) (local $stride i32) (local $base i32) (local $a v128) (local $s v128)',
  );
  for (let v = 0; v < NV; v++) L.push(`    (local $b${v} v128)`);
  for (let q = 0; q < 4; q++) for (let v = 0; v < NV; v++) L.push(`    (local ${acc(q, v)} v128)`);
  L.push('    (local.set $stride (i32.shl (local.get $taps) (i32.const 2)))');
  L.push('    (local.set $r (local.get $r0))');
  L.push('    (block $rDone (loop $rLoop');
  L.push('      (br_if $rDone (i32.ge_u (local.get $r) (local.get $r1)))');
  L.push(
    '      (local.set $base (i32.add (local.get $x) (i32.mul (i32.shr_u (local.get $r) (i32.const 2)) (local.get $panelStride))))',
  );
  L.push('      (local.set $j (local.get $j0))');
  L.push('      (block $jDone (loop $jLoop');
  L.push('        (br_if $jDone (i32.ge_u (local.get $j) (local.get $j1)))');
  L.push(
    '        (local.set $o (i32.add (local.get $out) (i32.add (i32.mul (local.get $r) (local.get $ldo)) (i32.shl (local.get $j) (i32.const 2)))))',
  );
  L.push('        (if (local.get $accumulate) (then');
  for (let q = 0; q < 4; q++)
    for (let v = 0; v < NV; v++) {
      L.push(
        `          (local.set ${acc(q, v)} (v128.load offset=${16 * v} (i32.add (local.get $o) (i32.mul (local.get $ldo) (i32.const ${q})))))`,
      );
    }
  L.push('        ) (else');
  for (let q = 0; q < 4; q++)
    for (let v = 0; v < NV; v++) L.push(`          (local.set ${acc(q, v)} (v128.const i32x4 0 0 0 0))`);
  L.push('        ))');
  L.push(
    '        (local.set $px (i32.add (local.get $xTable) (i32.shl (i32.add (i32.mul (local.get $m0) (local.get $taps)) (local.get $t)) (i32.const 2))))',
  );
  L.push(
    '        (local.set $endx (i32.add (local.get $xTable) (i32.shl (i32.add (i32.mul (local.get $m1) (local.get $taps)) (local.get $t)) (i32.const 2))))',
  );
  L.push(
    '        (local.set $pd (i32.add (local.get $dy) (i32.add (i32.mul (local.get $m0) (local.get $lddy)) (i32.mul (local.get $j) (local.get $jScale)))))',
  );
  L.push('        (block $mDone (loop $mLoop');
  L.push('          (br_if $mDone (i32.ge_u (local.get $px) (local.get $endx)))');
  L.push('          (local.set $a (v128.load (i32.add (i32.load (local.get $px)) (local.get $base))))');
  for (let v = 0; v < NV; v++) L.push(`          (local.set $b${v} (v128.load offset=${16 * v} (local.get $pd)))`);
  for (let q = 0; q < 4; q++) {
    const lanes = Array.from({ length: 4 }, () => [0, 1, 2, 3].map((k) => 4 * q + k).join(' ')).join(' ');
    L.push(`          (local.set $s (i8x16.shuffle ${lanes} (local.get $a) (local.get $a)))`);
    for (let v = 0; v < NV; v++) {
      L.push(
        `          (local.set ${acc(q, v)} (f32x4.add (local.get ${acc(q, v)}) (f32x4.mul (local.get $s) (local.get $b${v}))))`,
      );
    }
  }
  L.push('          (local.set $px (i32.add (local.get $px) (local.get $stride)))');
  L.push('          (local.set $pd (i32.add (local.get $pd) (local.get $lddy)))');
  L.push('          (br $mLoop)))');
  for (let q = 0; q < 4; q++)
    for (let v = 0; v < NV; v++) {
      L.push(
        `        (v128.store offset=${16 * v} (i32.add (local.get $o) (i32.mul (local.get $ldo) (i32.const ${q}))) (local.get ${acc(q, v)}))`,
      );
    }
  L.push(`        (local.set $j (i32.add (local.get $j) (i32.const ${NR})))`);
  L.push('        (br $jLoop)))');
  L.push('      (local.set $r (i32.add (local.get $r) (i32.const 4)))');
  L.push('      (br $rLoop)))');
  L.push('  )');
  // ---- pack ----
  L.push(
    '  (func (export "pack") (param $src i32) (param $rows i32) (param $ld i32) (param $cols i32) (param $dst i32)',
  );
  L.push('    (local $p i32) (local $k i32) (local $s i32) (local $rowBytes i32)');
  L.push('    (local.set $rowBytes (i32.shl (local.get $ld) (i32.const 2)))');
  L.push('    (local.set $p (i32.const 0))');
  L.push('    (block $pDone (loop $pLoop');
  L.push('      (br_if $pDone (i32.ge_u (local.get $p) (local.get $cols)))');
  L.push('      (local.set $s (i32.add (local.get $src) (i32.shl (local.get $p) (i32.const 2))))');
  L.push('      (local.set $k (i32.const 0))');
  L.push('      (block $kDone (loop $kLoop');
  L.push('        (br_if $kDone (i32.ge_u (local.get $k) (local.get $rows)))');
  for (let v = 0; v < NV; v++)
    L.push(`        (v128.store offset=${16 * v} (local.get $dst) (v128.load offset=${16 * v} (local.get $s)))`);
  L.push(`        (local.set $dst (i32.add (local.get $dst) (i32.const ${4 * NR})))`);
  L.push('        (local.set $s (i32.add (local.get $s) (local.get $rowBytes)))');
  L.push('        (local.set $k (i32.add (local.get $k) (i32.const 1)))');
  L.push('        (br $kLoop)))');
  L.push(`      (local.set $p (i32.add (local.get $p) (i32.const ${NR})))`);
  L.push('      (br $pLoop)))');
  L.push('  )');

  // ---- packTransposed ----
  L.push(
    '  (func (export "packTransposed") (param $src i32) (param $rows i32) (param $cols i32) (param $dst i32) (param $panelStride i32)',
  );
  L.push('    (local $p i32) (local $k i32) (local $s i32) (local $d i32) (local $rowBytes i32)');
  L.push('    (local.set $rowBytes (i32.shl (local.get $cols) (i32.const 2)))');
  L.push('    (local.set $p (i32.const 0))');
  L.push('    (block $pDone (loop $pLoop');
  L.push('      (br_if $pDone (i32.ge_u (local.get $p) (local.get $rows)))');
  L.push(
    `      (local.set $d (i32.add (local.get $dst) (i32.mul (i32.div_u (local.get $p) (i32.const ${NR})) (local.get $panelStride))))`,
  );
  L.push('      (local.set $s (i32.add (local.get $src) (i32.mul (local.get $p) (local.get $rowBytes))))');
  L.push('      (local.set $k (i32.const 0))');
  L.push('      (block $kDone (loop $kLoop');
  L.push('        (br_if $kDone (i32.ge_u (local.get $k) (local.get $cols)))');
  for (let q = 0; q < NR; q++) {
    L.push(
      `        (f32.store offset=${4 * q} (local.get $d) (f32.load (i32.add (local.get $s) (i32.mul (local.get $rowBytes) (i32.const ${q})))))`,
    );
  }
  L.push(`        (local.set $d (i32.add (local.get $d) (i32.const ${4 * NR})))`);
  L.push('        (local.set $s (i32.add (local.get $s) (i32.const 4)))');
  L.push('        (local.set $k (i32.add (local.get $k) (i32.const 1)))');
  L.push('        (br $kLoop)))');
  L.push(`      (local.set $p (i32.add (local.get $p) (i32.const ${NR})))`);
  L.push('      (br $pLoop)))');
  L.push('  )');
  // ---- gemv ----
  // gemv(a, b, rows, cols, out, j0, j1): out[j] = Σ_k a[k]·b[k·cols + j] for j in [j0, j1) (cols, j0, j1 multiples of 4).
  L.push(
    '  (func (export "gemv") (param $a i32) (param $b i32) (param $rows i32) (param $cols i32) (param $out i32) (param $j0 i32) (param $j1 i32)',
  );
  L.push('    (local $j i32) (local $pa i32) (local $pb i32) (local $end i32) (local $rowBytes i32) (local $s v128)');
  for (let v = 0; v < 8; v++) L.push(`    (local $g${v} v128)`);
  L.push('    (local.set $rowBytes (i32.shl (local.get $cols) (i32.const 2)))');
  L.push('    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $rows) (i32.const 2))))');
  L.push('    (local.set $j (local.get $j0))');
  for (const [width, label] of [
    [8, 'Wide'],
    [1, 'Narrow'],
  ]) {
    L.push(`    (block $${label}Done (loop $${label}Loop`);
    L.push(`      (br_if $${label}Done (i32.gt_u (i32.add (local.get $j) (i32.const ${4 * width})) (local.get $j1)))`);
    for (let v = 0; v < width; v++) L.push(`      (local.set $g${v} (v128.const i32x4 0 0 0 0))`);
    L.push('      (local.set $pa (local.get $a))');
    L.push('      (local.set $pb (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2))))');
    L.push(`      (block $k${label}Done (loop $k${label}Loop`);
    L.push(`        (br_if $k${label}Done (i32.ge_u (local.get $pa) (local.get $end)))`);
    L.push('        (local.set $s (v128.load32_splat (local.get $pa)))');
    for (let v = 0; v < width; v++) {
      L.push(
        `        (local.set $g${v} (f32x4.add (local.get $g${v}) (f32x4.mul (local.get $s) (v128.load offset=${16 * v} (local.get $pb)))))`,
      );
    }
    L.push('        (local.set $pa (i32.add (local.get $pa) (i32.const 4)))');
    L.push('        (local.set $pb (i32.add (local.get $pb) (local.get $rowBytes)))');
    L.push(`        (br $k${label}Loop)))`);
    for (let v = 0; v < width; v++) {
      L.push(
        `      (v128.store offset=${16 * v} (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2))) (local.get $g${v}))`,
      );
    }
    L.push(`      (local.set $j (i32.add (local.get $j) (i32.const ${4 * width})))`);
    L.push(`      (br $${label}Loop)))`);
  }
  L.push('  )');
  // ---- pack4 ----
  L.push(
    '  (func (export "pack4") (param $src i32) (param $pixels i32) (param $ld i32) (param $groups i32) (param $dst i32) (param $panelStride i32)',
  );
  L.push('    (local $p i32) (local $g i32) (local $s i32) (local $d i32) (local $rowBytes i32)');
  L.push('    (local.set $rowBytes (i32.shl (local.get $ld) (i32.const 2)))');
  L.push('    (local.set $p (i32.const 0))');
  L.push('    (block $pDone (loop $pLoop');
  L.push('      (br_if $pDone (i32.ge_u (local.get $p) (local.get $pixels)))');
  L.push('      (local.set $s (i32.add (local.get $src) (i32.mul (local.get $p) (local.get $rowBytes))))');
  L.push('      (local.set $d (i32.add (local.get $dst) (i32.shl (local.get $p) (i32.const 4))))');
  L.push('      (local.set $g (i32.const 0))');
  L.push('      (block $gDone (loop $gLoop');
  L.push('        (br_if $gDone (i32.ge_u (local.get $g) (local.get $groups)))');
  L.push('        (v128.store (local.get $d) (v128.load (local.get $s)))');
  L.push('        (local.set $s (i32.add (local.get $s) (i32.const 16)))');
  L.push('        (local.set $d (i32.add (local.get $d) (local.get $panelStride)))');
  L.push('        (local.set $g (i32.add (local.get $g) (i32.const 1)))');
  L.push('        (br $gLoop)))');
  L.push('      (local.set $p (i32.add (local.get $p) (i32.const 1)))');
  L.push('      (br $pLoop)))');
  L.push('  )');
  // ---- maxPoolGrad ----
  // maxPoolGrad(x, dy, dx, n, h, w, c, oh, ow, fh, fw, sh, sw, top, left, c0, c1): for channels [c0, c1) (multiples of
  // 4) of NHWC maps, adds dy[n, y, x, c] to dx at the FIRST maximum (row-major, strict >) of each pooling window of x;
  // dx must start zeroed. Threads take disjoint channel ranges (windows overlap in space, never across channels).
  L.push(
    '  (func (export "maxPoolGrad") (param $x i32) (param $dy i32) (param $dx i32) (param $n i32) (param $h i32) (param $w i32) (param $c i32)',
  );
  L.push(
    '        (param $oh i32) (param $ow i32) (param $fh i32) (param $fw i32) (param $sh i32) (param $sw i32) (param $top i32) (param $left i32)',
  );
  L.push('        (param $c0 i32) (param $c1 i32)');
  L.push(
    '    (local $b i32) (local $y i32) (local $xo i32) (local $ch i32) (local $i i32) (local $j i32) (local $row i32) (local $col i32)',
  );
  L.push(
    '    (local $tap i32) (local $at i32) (local $pixelBytes i32) (local $best v128) (local $arg v128) (local $v v128) (local $gt v128) (local $g v128) (local $o i32)',
  );
  L.push('    (local.set $pixelBytes (i32.shl (local.get $c) (i32.const 2)))');
  L.push('    (local.set $b (i32.const 0))');
  L.push('    (block $bDone (loop $bLoop (br_if $bDone (i32.ge_u (local.get $b) (local.get $n)))');
  L.push('    (local.set $y (i32.const 0))');
  L.push('    (block $yDone (loop $yLoop (br_if $yDone (i32.ge_u (local.get $y) (local.get $oh)))');
  L.push('    (local.set $xo (i32.const 0))');
  L.push('    (block $xDone (loop $xLoop (br_if $xDone (i32.ge_u (local.get $xo) (local.get $ow)))');
  L.push('    (local.set $ch (local.get $c0))');
  L.push('    (block $cDone (loop $cLoop (br_if $cDone (i32.ge_u (local.get $ch) (local.get $c1)))');
  // pass 1: first maximum and its tap
  L.push('      (local.set $best (v128.const f32x4 -inf -inf -inf -inf))');
  L.push('      (local.set $arg (v128.const i32x4 -1 -1 -1 -1))');
  for (const pass of [1, 2]) {
    if (pass === 2) {
      L.push(
        '      (local.set $o (i32.add (local.get $dy) (i32.add (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $oh)) (local.get $y)) (local.get $ow)) (local.get $xo)) (local.get $pixelBytes)) (i32.shl (local.get $ch) (i32.const 2)))))',
      );
      L.push('      (local.set $g (v128.load (local.get $o)))');
    }
    L.push('      (local.set $i (i32.const 0))');
    L.push(
      `      (block $i${pass}Done (loop $i${pass}Loop (br_if $i${pass}Done (i32.ge_u (local.get $i) (local.get $fh)))`,
    );
    L.push(
      '        (local.set $row (i32.sub (i32.add (i32.mul (local.get $y) (local.get $sh)) (local.get $i)) (local.get $top)))',
    );
    L.push('        (local.set $j (i32.const 0))');
    L.push(
      `        (block $j${pass}Done (loop $j${pass}Loop (br_if $j${pass}Done (i32.ge_u (local.get $j) (local.get $fw)))`,
    );
    L.push(
      '          (local.set $col (i32.sub (i32.add (i32.mul (local.get $xo) (local.get $sw)) (local.get $j)) (local.get $left)))',
    );
    L.push('          (local.set $tap (i32.add (i32.mul (local.get $i) (local.get $fw)) (local.get $j)))');
    // inside: 0 <= row < h and 0 <= col < w (unsigned compare handles negatives)
    L.push(
      '          (if (i32.and (i32.lt_u (local.get $row) (local.get $h)) (i32.lt_u (local.get $col) (local.get $w))) (then',
    );
    L.push(
      '            (local.set $at (i32.add (i32.mul (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $h)) (local.get $row)) (local.get $w)) (local.get $col)) (local.get $pixelBytes)) (i32.shl (local.get $ch) (i32.const 2))))',
    );
    if (pass === 1) {
      L.push('            (local.set $v (v128.load (i32.add (local.get $x) (local.get $at))))');
      L.push('            (local.set $gt (f32x4.gt (local.get $v) (local.get $best)))');
      L.push('            (local.set $best (v128.bitselect (local.get $v) (local.get $best) (local.get $gt)))');
      L.push(
        '            (local.set $arg (v128.bitselect (i32x4.splat (local.get $tap)) (local.get $arg) (local.get $gt)))',
      );
    } else {
      L.push('            (local.set $o (i32.add (local.get $dx) (local.get $at)))');
      L.push(
        '            (v128.store (local.get $o) (f32x4.add (v128.load (local.get $o)) (v128.and (local.get $g) (i32x4.eq (local.get $arg) (i32x4.splat (local.get $tap))))))',
      );
    }
    L.push('          ))');
    L.push('          (local.set $j (i32.add (local.get $j) (i32.const 1)))');
    L.push(`          (br $j${pass}Loop)))`);
    L.push('        (local.set $i (i32.add (local.get $i) (i32.const 1)))');
    L.push(`        (br $i${pass}Loop)))`);
  }
  L.push('      (local.set $ch (i32.add (local.get $ch) (i32.const 4)))');
  L.push('      (br $cLoop)))');
  L.push('    (local.set $xo (i32.add (local.get $xo) (i32.const 1)))');
  L.push('    (br $xLoop)))');
  L.push('    (local.set $y (i32.add (local.get $y) (i32.const 1)))');
  L.push('    (br $yLoop)))');
  L.push('    (local.set $b (i32.add (local.get $b) (i32.const 1)))');
  L.push('    (br $bLoop)))');
  L.push('  )');
  L.push(')');
  return L.join('\n');
}
