// Generates the WebAssembly text of the SIMD element-wise kernels used by @vkd/backends' fused kernels on the wasm
// backend (BatchNorm training forward/backward, Adam). The module imports the tfjs-wasm backend's own memory
// (`env.memory`, not shared), so the kernels read and write tensors where they are: no copies in or out.
// Every function walks `rows` rows of `cols` floats (byte offset o of a row, c of a channel): 4 channels per SIMD
// step, then the remaining channels one at a time. Per-channel vectors ([cols]) are indexed by c alone.
//
// colSum(x, rows, cols, block, scale): block[c] = Σ_r x[r, c]·scale
// colSquaredDeviation(x, center, rows, cols, block, scale): block[c] = Σ_r (x[r, c] − center[c])²·scale
//   JavaScript calls both per block of 256 rows and sums the blocks in float64: the arithmetic, in the same order, of
//   the composed ops' column sums (a row of ones or 1/M times x on @vkd/backends' `BatchMatMul`), so the same values.
// normalize{k}(x, mean, scale, bias, shortcut, out, rows, cols): out = (x − mean)·scale + bias (+ shortcut when
//   k & 2) (then max(·, 0) when k & 1) — the order of the composed tfjs ops, so the values are the same.
// gradSums{k}(dy, x, out, mean, rows, cols, blockDz, blockDzX): dz = dy·[out > 0] when k & 1, else dy;
//   blockDz[c] = Σ dz, blockDzX[c] = Σ dz·(x − mean) (per block of rows, as colSum).
// gradInput{k}(dy, x, out, mean, scale, meanTerm, centeredTerm, dx, dz, rows, cols): dz as gradSums (stored to dz
//   when k & 2); dx = (dz·scale − meanTerm) − (x − mean)·centeredTerm.
// adam{k}(w, g, m, v, wOut, mOut, vOut, n, weightDecay, beta1, oneMinusBeta1, beta2, oneMinusBeta2, correction,
//   epsilon, negativeStep): PyTorch's Adam with L2 in the gradient (`g + wd·w` only when k & 1), in the operation
//   order of @vkd/trainer's composed update.

const VEC = {
  load: 'v128.load',
  store: 'v128.store',
  add: 'f32x4.add',
  sub: 'f32x4.sub',
  mul: 'f32x4.mul',
  div: 'f32x4.div',
  sqrt: 'f32x4.sqrt',
  max: 'f32x4.max',
  zero: '(v128.const f32x4 0 0 0 0)',
  /** 1.0 where a > 0, else 0.0. */
  positive: (a) => `(v128.and (f32x4.gt ${a} (v128.const f32x4 0 0 0 0)) (v128.const f32x4 1 1 1 1))`,
  scalar: (name) => `(f32x4.splat (local.get $${name}))`,
  step: 16,
  local: 'v128',
};
const SCALAR = {
  load: 'f32.load',
  store: 'f32.store',
  add: 'f32.add',
  sub: 'f32.sub',
  mul: 'f32.mul',
  div: 'f32.div',
  sqrt: 'f32.sqrt',
  max: 'f32.max',
  zero: '(f32.const 0)',
  positive: (a) => `(f32.convert_i32_u (f32.gt ${a} (f32.const 0)))`,
  scalar: (name) => `(local.get $${name})`,
  step: 4,
  local: 'f32',
};

/** Address of element (row o, channel c) of the tensor at `$name`. */
const at = (name) => `(i32.add (local.get $${name}) (i32.add (local.get $o) (local.get $c)))`;
/** Address of channel c of the per-channel vector at `$name`. */
const ch = (name) => `(i32.add (local.get $${name}) (local.get $c))`;

/**
 * One exported function looping over rows × channels.
 * @param body (T) => lines of one step (T = VEC or SCALAR); it may use locals named in `temps` (typed per step).
 * @param before lines run once before the loops (zeroing block sums).
 */
function rowFunction({ name, params, temps = [], body, before = [] }) {
  const L = [];
  L.push(`  (func (export "${name}") ${params.map((p) => `(param $${p[0]} ${p[1]})`).join(' ')}`);
  L.push('    (local $r i32) (local $o i32) (local $c i32) (local $rowBytes i32) (local $vecBytes i32)');
  for (const t of temps) L.push(`    (local $${t}v v128) (local $${t}s f32)`);
  L.push('    (local.set $rowBytes (i32.shl (local.get $cols) (i32.const 2)))');
  L.push('    (local.set $vecBytes (i32.shl (i32.shr_u (local.get $cols) (i32.const 2)) (i32.const 4)))');
  L.push(...before.map((line) => `    ${line}`));
  L.push('    (local.set $r (i32.const 0)) (local.set $o (i32.const 0))');
  L.push('    (block $rDone (loop $rLoop');
  L.push('      (br_if $rDone (i32.ge_u (local.get $r) (local.get $rows)))');
  for (const [T, limit, label] of [
    [VEC, '$vecBytes', 'v'],
    [SCALAR, '$rowBytes', 's'],
  ]) {
    if (T === VEC) L.push('      (local.set $c (i32.const 0))');
    L.push(`      (block $${label}Done (loop $${label}Loop`);
    L.push(`        (br_if $${label}Done (i32.ge_u (local.get $c) (local.get ${limit})))`);
    const tempNames = (text) => text.replace(/\$t_(\w+)/g, (_, t) => `$${t}${label}`);
    L.push(...body(T).map((line) => `        ${tempNames(line)}`));
    L.push(`        (local.set $c (i32.add (local.get $c) (i32.const ${T.step})))`);
    L.push(`        (br $${label}Loop)))`);
  }
  L.push('      (local.set $o (i32.add (local.get $o) (local.get $rowBytes)))');
  L.push('      (local.set $r (i32.add (local.get $r) (i32.const 1)))');
  L.push('      (br $rLoop)))');
  L.push('  )');
  return L.join('\n');
}

/** A loop over the channels alone (cols floats): `body(T)` per step, as in rowFunction. */
function channelLoop(label, body) {
  const L = [];
  L.push('(local.set $c (i32.const 0))');
  for (const [T, limit, kind] of [
    [VEC, '$vecBytes', 'v'],
    [SCALAR, '$rowBytes', 's'],
  ]) {
    L.push(`(block $${label}${kind}Done (loop $${label}${kind}Loop`);
    L.push(`  (br_if $${label}${kind}Done (i32.ge_u (local.get $c) (local.get ${limit})))`);
    L.push(...body(T).map((line) => `  ${line}`));
    L.push(`  (local.set $c (i32.add (local.get $c) (i32.const ${T.step})))`);
    L.push(`  (br $${label}${kind}Loop)))`);
  }
  return L;
}

/** Zeroes the block accumulators first. */
function blockSums(blocks) {
  return { before: channelLoop('zero', (T) => blocks.map((block) => `(${T.store} ${ch(block)} ${T.zero})`)) };
}

/** dz = dy·[out > 0] (relu) or dy, into the temp t_dz. */
function gradientOfTail(T, relu) {
  const dy = `(${T.load} ${at('dy')})`;
  return relu
    ? `(local.set $t_dz (${T.mul} ${dy} ${T.positive(`(${T.load} ${at('out')})`)}))`
    : `(local.set $t_dz ${dy})`;
}

export function normWat() {
  const L = ['(module', '  (import "env" "memory" (memory 1))'];
  const i32 = (name) => [name, 'i32'];
  const f32 = (name) => [name, 'f32'];

  L.push(
    rowFunction({
      name: 'colSum',
      params: [...['x', 'rows', 'cols', 'block'].map(i32), f32('scale')],
      body: (T) => [
        `(${T.store} ${ch('block')} (${T.add} (${T.load} ${ch('block')}) (${T.mul} ${T.scalar('scale')} (${T.load} ${at('x')}))))`,
      ],
      ...blockSums(['block']),
    }),
  );
  L.push(
    rowFunction({
      name: 'colSquaredDeviation',
      params: [...['x', 'center', 'rows', 'cols', 'block'].map(i32), f32('scale')],
      temps: ['d'],
      body: (T) => [
        `(local.set $t_d (${T.sub} (${T.load} ${at('x')}) (${T.load} ${ch('center')})))`,
        `(${T.store} ${ch('block')} (${T.add} (${T.load} ${ch('block')}) (${T.mul} ${T.scalar('scale')} (${T.mul} (local.get $t_d) (local.get $t_d)))))`,
      ],
      ...blockSums(['block']),
    }),
  );
  for (let k = 0; k < 4; k++) {
    const relu = (k & 1) !== 0;
    const shortcut = (k & 2) !== 0;
    L.push(
      rowFunction({
        name: `normalize${k}`,
        params: ['x', 'mean', 'scale', 'bias', 'shortcut', 'out', 'rows', 'cols'].map(i32),
        temps: ['y'],
        body: (T) => [
          `(local.set $t_y (${T.add} (${T.mul} (${T.sub} (${T.load} ${at('x')}) (${T.load} ${ch('mean')})) (${T.load} ${ch('scale')})) (${T.load} ${ch('bias')})))`,
          ...(shortcut ? [`(local.set $t_y (${T.add} (local.get $t_y) (${T.load} ${at('shortcut')})))`] : []),
          ...(relu ? [`(local.set $t_y (${T.max} (local.get $t_y) ${T.zero}))`] : []),
          `(${T.store} ${at('out')} (local.get $t_y))`,
        ],
      }),
    );
  }
  for (let k = 0; k < 2; k++) {
    const relu = k === 1;
    L.push(
      rowFunction({
        name: `gradSums${k}`,
        params: ['dy', 'x', 'out', 'mean', 'rows', 'cols', 'blockDz', 'blockDzX'].map(i32),
        temps: ['dz'],
        body: (T) => [
          gradientOfTail(T, relu),
          `(${T.store} ${ch('blockDz')} (${T.add} (${T.load} ${ch('blockDz')}) (local.get $t_dz)))`,
          `(${T.store} ${ch('blockDzX')} (${T.add} (${T.load} ${ch('blockDzX')}) (${T.mul} (local.get $t_dz) (${T.sub} (${T.load} ${at('x')}) (${T.load} ${ch('mean')})))))`,
        ],
        ...blockSums(['blockDz', 'blockDzX']),
      }),
    );
  }
  for (let k = 0; k < 4; k++) {
    const relu = (k & 1) !== 0;
    const storeDz = (k & 2) !== 0;
    L.push(
      rowFunction({
        name: `gradInput${k}`,
        params: ['dy', 'x', 'out', 'mean', 'scale', 'meanTerm', 'centeredTerm', 'dx', 'dz', 'rows', 'cols'].map(i32),
        temps: ['dz'],
        body: (T) => [
          gradientOfTail(T, relu),
          ...(storeDz ? [`(${T.store} ${at('dz')} (local.get $t_dz))`] : []),
          `(${T.store} ${at('dx')} (${T.sub} (${T.sub} (${T.mul} (local.get $t_dz) (${T.load} ${ch('scale')})) (${T.load} ${ch('meanTerm')})) (${T.mul} (${T.sub} (${T.load} ${at('x')}) (${T.load} ${ch('mean')})) (${T.load} ${ch('centeredTerm')}))))`,
        ],
      }),
    );
  }
  for (let k = 0; k < 2; k++) {
    const decay = k === 1;
    const scalars = [
      'weightDecay',
      'beta1',
      'oneMinusBeta1',
      'beta2',
      'oneMinusBeta2',
      'correction',
      'epsilon',
      'negativeStep',
    ];
    L.push(
      rowFunction({
        name: `adam${k}`,
        // One row of n values: `cols` is n.
        params: [...['w', 'g', 'm', 'v', 'wOut', 'mOut', 'vOut', 'rows', 'cols'].map(i32), ...scalars.map(f32)],
        temps: ['g', 'm', 'v'],
        body: (T) => [
          decay
            ? `(local.set $t_g (${T.add} (${T.load} ${at('g')}) (${T.mul} ${T.scalar('weightDecay')} (${T.load} ${at('w')}))))`
            : `(local.set $t_g (${T.load} ${at('g')}))`,
          `(local.set $t_m (${T.add} (${T.mul} ${T.scalar('beta1')} (${T.load} ${at('m')})) (${T.mul} ${T.scalar('oneMinusBeta1')} (local.get $t_g))))`,
          `(local.set $t_v (${T.add} (${T.mul} ${T.scalar('beta2')} (${T.load} ${at('v')})) (${T.mul} ${T.scalar('oneMinusBeta2')} (${T.mul} (local.get $t_g) (local.get $t_g)))))`,
          `(${T.store} ${at('mOut')} (local.get $t_m))`,
          `(${T.store} ${at('vOut')} (local.get $t_v))`,
          `(${T.store} ${at('wOut')} (${T.add} (${T.load} ${at('w')}) (${T.mul} ${T.scalar('negativeStep')} (${T.div} (local.get $t_m) (${T.add} (${T.div} (${T.sqrt} (local.get $t_v)) ${T.scalar('correction')}) ${T.scalar('epsilon')})))))`,
        ],
      }),
    );
  }
  L.push(')');
  return L.join('\n');
}
