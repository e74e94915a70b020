import { cp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  compareWithReference,
  GENERATE,
  refusedAndUnchanged,
  teacherArgs,
  waitForSteps,
  workFolder,
  type Fixture,
} from './attacks';
import { classifyFailure, REPOSITORY, runCli, startCli, type AttackResult } from './harness';

/** More user files where vkd writes: each place a generator or a run could once delete or overwrite. */
export async function userFilesEverywhere(fixture: Fixture): Promise<AttackResult[]> {
  const results: AttackResult[] = [];
  const base = await workFolder('user-files-2');
  for (const place of ['bbox_test/0009', 'info', 'bbox_train']) {
    const data = join(base, `data-${place.replace(/\W/g, '-')}`);
    await cp(fixture.data, data, { recursive: true });
    await writeFile(join(data, place, 'mine.txt'), 'the user’s notes');
    results.push(
      await refusedAndUnchanged(
        `datasets generate --regenerate (other seed), user file in ${place}/`,
        ['datasets', 'generate', '--out', data, ...GENERATE, '--seed', '4', '--regenerate'],
        data,
        /mine\.txt: was not written by the synthetic generator/,
      ),
    );
  }
  // A file of the user's next to the set (not inside what the generator writes): regeneration keeps it.
  const beside = join(base, 'data-beside');
  await cp(fixture.data, beside, { recursive: true });
  await writeFile(join(beside, 'README.txt'), 'the user’s notes');
  const regenerated = await runCli([
    'datasets',
    'generate',
    '--out',
    beside,
    ...GENERATE,
    '--seed',
    '4',
    '--regenerate',
  ]);
  const kept = await readFile(join(beside, 'README.txt'), 'utf8').catch(() => undefined);
  const manifest = JSON.parse(await readFile(join(beside, 'synthetic.json'), 'utf8').catch(() => '{}')) as {
    options?: { seed?: number };
  };
  results.push({
    attack: 'datasets generate --regenerate (other seed), user file beside the set',
    outcome:
      kept !== 'the user’s notes'
        ? 'data lost or corrupted'
        : regenerated.code !== 0
          ? classifyFailure(regenerated)
          : manifest.options?.seed === 4
            ? 'handled (correct result)'
            : 'silent wrong result',
    detail:
      regenerated.code === 0
        ? `regenerated with seed ${manifest.options?.seed}; README.txt kept`
        : (regenerated.stderr.trim().split('\n')[0]?.slice(0, 200) ?? ''),
  });
  // A MARS tree of the user's own frames with a stale synthetic manifest.
  const mars = join(base, 'mars-own');
  await cp(fixture.data, mars, { recursive: true });
  const frames = (await readdir(join(mars, 'bbox_train'), { recursive: true })).filter((name) => name.endsWith('.jpg'));
  for (const frame of frames) await writeFile(join(mars, 'bbox_train', frame), 'the user’s own frame');
  results.push(
    await refusedAndUnchanged(
      'datasets generate --regenerate over the user’s own frames with a stale manifest',
      ['datasets', 'generate', '--out', mars, ...GENERATE, '--seed', '9', '--regenerate'],
      mars,
      /was not written by the synthetic generator|differs from what the generator wrote|changed since/,
    ),
  );
  // vkd demo --out D: the user's files in each folder the demo writes.
  for (const folder of ['teacher', 'student', 'baseline']) {
    const demo = join(base, `demo-${folder}`);
    await mkdir(join(demo, folder), { recursive: true });
    await writeFile(join(demo, folder, 'mine.txt'), 'mine');
    results.push(
      await refusedAndUnchanged(
        `vkd demo --out D, user file in D/${folder}`,
        ['demo', '--quick', '--device', 'cpu', '--out', demo],
        demo,
        /is not listed there; nothing was removed|is not empty/,
      ),
    );
  }
  // Run directories: a user file only, or next to a finished run's model/.
  const notes = join(base, 'notes-only');
  await mkdir(notes, { recursive: true });
  await writeFile(join(notes, 'notes.txt'), 'mine');
  results.push(
    await refusedAndUnchanged(
      'train-teacher into a folder holding a user file',
      teacherArgs(fixture, notes),
      notes,
      /is not empty/,
    ),
  );
  // --force removes only what earlier runs wrote (nothing here): the run goes ahead beside the user's file.
  const forced = await runCli(teacherArgs(fixture, notes, ['--force']));
  const notesKept = (await readFile(join(notes, 'notes.txt'), 'utf8').catch(() => undefined)) === 'mine';
  const forcedWeights = await readFile(join(notes, 'model', 'weights.safetensors')).catch(() => Buffer.alloc(0));
  results.push({
    attack: 'train-teacher --force into a folder holding only a user file',
    outcome: !notesKept
      ? 'data lost or corrupted'
      : forced.code !== 0
        ? classifyFailure(forced)
        : forcedWeights.equals(fixture.weights)
          ? 'handled (correct result)'
          : 'silent wrong result',
    detail: `exit ${forced.code}; notes.txt ${notesKept ? 'kept' : 'gone'}${forced.code === 0 ? '; weights equal the reference run' : ''}`,
  });
  const finished = join(base, 'finished-model');
  await cp(fixture.reference, finished, { recursive: true });
  await writeFile(join(finished, 'model', 'my-export.onnx'), 'mine');
  results.push(
    await refusedAndUnchanged(
      '--force over a finished run with a user file in model/',
      teacherArgs(fixture, finished, ['--force']),
      finished,
      /model\/my-export\.onnx is not listed there; nothing was removed/,
    ),
  );
  const evaluated = join(base, 'results.txt');
  await writeFile(evaluated, 'mine');
  results.push(
    await refusedAndUnchanged(
      'evaluate --out FILE (a user file)',
      ['evaluate', '--dataset', 'synthetic', '--root', fixture.data, '--model', fixture.reference, '--out', evaluated],
      base,
      /It is a file; --out takes a directory/,
    ),
  );
  return results;
}

/** More settings changed on --resume, and one accepted with --allow-changed. */
export async function resumeMismatchesMore(fixture: Fixture): Promise<AttackResult[]> {
  const results: AttackResult[] = [];
  const run = join(await workFolder('resume-2'), 'run');
  await cp(fixture.reference, run, { recursive: true });
  const cases: Array<[string, string[], RegExp]> = [
    ['--resume with another learning rate', ['--learning-rate', '0.001'], /--learning-rate .* → 0\.001/],
    ['--resume with another width', ['--width', '32'], /--width 16 → 32/],
    ['--resume with another base width', ['--base-width', '8'], /--base-width 4 → 8/],
    ['--resume with another backbone', ['--backbone', 'resnet34'], /--backbone "resnet18" → "resnet34"/],
    [
      '--resume with instances per identity changed',
      ['--instances-per-identity', '2'],
      /--instances-per-identity 1 → 2/,
    ],
    ['--resume with weight decay changed', ['--weight-decay', '0.01'], /--weight-decay .* → 0\.01/],
    ['--resume with augmentation on', ['--augment'], /--augment false → true/],
  ];
  // A flag given twice takes the last value: the changed setting is appended to the run's own.
  for (const [attack, extra, expected] of cases)
    results.push(await refusedAndUnchanged(attack, teacherArgs(fixture, run, ['--resume', ...extra]), run, expected));
  // Accepted on purpose: the run continues (here: it is finished, so nothing more is trained) and says so.
  const allowed = await runCli(teacherArgs(fixture, run, ['--resume', '--seed', '2', '--allow-changed', 'seed']));
  const settings = JSON.parse(await readFile(join(run, 'settings.json'), 'utf8')) as { allowedChanges?: unknown[] };
  // The tensors, not the header: the model's recorded init seed is the new one, as the user allowed.
  const weights = tensorData(await readFile(join(run, 'model', 'weights.safetensors')));
  results.push({
    attack: '--resume --seed 2 --allow-changed seed (accepted)',
    outcome:
      allowed.code !== 0
        ? classifyFailure(allowed)
        : (settings.allowedChanges as { key?: string }[] | undefined)?.every((change) => change.key === 'seed') &&
            (settings.allowedChanges?.length ?? 0) > 0 &&
            weights.equals(tensorData(fixture.weights))
          ? 'handled (correct result)'
          : 'silent wrong result',
    detail: `exit ${allowed.code}; tensors ${weights.equals(tensorData(fixture.weights)) ? 'bit-exact' : 'differ'}; settings.json records ${settings.allowedChanges?.length ?? 0} allowed change(s); ${allowed.stderr.trim().split('\n')[0]?.slice(0, 140) ?? ''}`,
  });
  return results;
}

/** Overwrites the first F32 value of a safetensors file's tensor data with `value`. */
async function poisonSafetensors(file: string, value: number): Promise<void> {
  const bytes = await readFile(file);
  const headerLength = Number(bytes.readBigUInt64LE(0));
  bytes.writeFloatLE(value, 8 + headerLength);
  await writeFile(file, bytes);
}

/** A finished run's checkpoint, settings, manifest and log damaged in turn, then `--resume` (or `vkd report`). */
export async function damagedRunFiles(fixture: Fixture): Promise<AttackResult[]> {
  const results: AttackResult[] = [];
  const base = await workFolder('damaged');
  const damage: Array<[string, (run: string) => Promise<void>, RegExp]> = [];
  const state = (run: string) => join(run, 'checkpoints', 'epoch-0012', 'state.json');
  const editState = (edit: (value: Record<string, unknown>) => Record<string, unknown>) => async (run: string) => {
    await writeFile(state(run), JSON.stringify(edit(JSON.parse(await readFile(state(run), 'utf8')))));
  };
  damage.push(
    ['state.json nextEpoch -1', editState((value) => ({ ...value, nextEpoch: -1 })), /nextEpoch/],
    ['state.json nextEpoch 1.5', editState((value) => ({ ...value, nextEpoch: 1.5 })), /nextEpoch/],
    ['state.json without globalStep', editState(({ globalStep: _dropped, ...value }) => value), /globalStep/],
    [
      'state.json with a repeated key',
      async (run) => {
        const text = await readFile(state(run), 'utf8');
        await writeFile(state(run), `${text.trim().slice(0, -1)},"nextEpoch":3}`);
      },
      /duplicate key "nextEpoch"/,
    ],
    [
      'state.json truncated',
      async (run) => writeFile(state(run), (await readFile(state(run), 'utf8')).slice(0, 20)),
      /state\.json/,
    ],
    [
      'checkpoint weights with a NaN',
      (run) => poisonSafetensors(join(run, 'checkpoints', 'epoch-0012', 'model', 'weights.safetensors'), Number.NaN),
      /NaN|not finite|non-finite/i,
    ],
    [
      'checkpoint weights with +Inf',
      (run) =>
        poisonSafetensors(
          join(run, 'checkpoints', 'epoch-0012', 'model', 'weights.safetensors'),
          Number.POSITIVE_INFINITY,
        ),
      /Inf|not finite|non-finite/i,
    ],
    [
      'optimizer state with a NaN',
      (run) => poisonSafetensors(join(run, 'checkpoints', 'epoch-0012', 'optimizer.safetensors'), Number.NaN),
      /NaN|not finite|non-finite/i,
    ],
    [
      'checkpoint weights truncated',
      async (run) => {
        const file = join(run, 'checkpoints', 'epoch-0012', 'model', 'weights.safetensors');
        const bytes = await readFile(file);
        await writeFile(file, bytes.subarray(0, bytes.length - 100));
      },
      /weights\.safetensors/,
    ],
    [
      'optimizer.safetensors garbage',
      (run) => writeFile(join(run, 'checkpoints', 'epoch-0012', 'optimizer.safetensors'), 'garbage'),
      /optimizer\.safetensors/,
    ],
    [
      'checkpoints.json truncated',
      async (run) => writeFile(join(run, 'checkpoints', 'checkpoints.json'), '{"latest": "epo'),
      /checkpoints\.json/,
    ],
    [
      'checkpoints.json with a repeated key',
      async (run) => {
        const file = join(run, 'checkpoints', 'checkpoints.json');
        const text = await readFile(file, 'utf8');
        await writeFile(file, `${text.trim().slice(0, -1)},"latest":"epoch-0003"}`);
      },
      /duplicate key "latest"/,
    ],
    [
      'settings.json with a repeated key',
      async (run) => {
        const file = join(run, 'settings.json');
        const text = await readFile(file, 'utf8');
        await writeFile(file, text.replace('"seed": 1897', '"seed": 1897, "seed": 5'));
      },
      /duplicate key "seed"/,
    ],
    ['settings.json missing', (run) => rm(join(run, 'settings.json')), /settings\.json/],
    ['vkd-run.json damaged', (run) => writeFile(join(run, 'vkd-run.json'), '{"format": 3'), /vkd-run\.json/],
  );
  for (const [index, [attack, apply, expected]] of damage.entries()) {
    const run = join(base, `run-${index}`);
    await cp(fixture.reference, run, { recursive: true });
    await apply(run);
    results.push(
      await refusedAndUnchanged(`${attack}, then --resume`, teacherArgs(fixture, run, ['--resume']), run, expected),
    );
  }
  // The checkpoint's model.json is not needed to resume (weights and state are): resuming must still give the
  // reference's weights, or refuse.
  const manifestDamaged = join(base, 'model-json');
  await cp(fixture.reference, manifestDamaged, { recursive: true });
  await writeFile(join(manifestDamaged, 'checkpoints', 'epoch-0012', 'model', 'model.json'), '[]');
  const resumed = await runCli(teacherArgs(fixture, manifestDamaged, ['--resume']));
  const after = await readFile(join(manifestDamaged, 'model', 'weights.safetensors')).catch(() => Buffer.alloc(0));
  results.push({
    attack: 'model.json of the checkpoint damaged, then --resume',
    outcome:
      resumed.code !== 0
        ? classifyFailure(resumed)
        : after.equals(fixture.weights)
          ? 'handled (correct result)'
          : 'silent wrong result',
    detail: `exit ${resumed.code}: ${resumed.code === 0 ? 'final weights bit-exact' : resumed.stderr.trim().split('\n')[0]?.slice(0, 160)}`,
  });
  // A damaged line in the middle of log.jsonl: vkd report skips and counts it.
  const logged = join(base, 'log-garbage');
  await cp(fixture.reference, logged, { recursive: true });
  const log = (await readFile(join(logged, 'log.jsonl'), 'utf8')).split('\n');
  log.splice(10, 0, '{"type":"step", garbage');
  await writeFile(join(logged, 'log.jsonl'), log.join('\n'));
  const report = await runCli(['report', '--run', logged]);
  results.push({
    attack: 'a damaged line in the middle of log.jsonl; vkd report',
    outcome: report.code === 0 ? 'handled (correct result)' : classifyFailure(report),
    detail: `exit ${report.code}: ${
      `${report.stdout}\n${report.stderr}`
        .match(/.*(damaged|skipped).*/)?.[0]
        ?.trim()
        .slice(0, 160) ?? report.stderr.trim().slice(0, 160)
    }`,
  });
  return results;
}

/** Two `vkd datasets generate` into one folder at once: one writes the set, the other is refused naming it. */
export async function concurrentGenerators(index: number): Promise<AttackResult> {
  const out = join(await workFolder(`generate-${index}`), 'data');
  const attack = 'two datasets generate into one folder at once';
  const [first, second] = await Promise.all([
    runCli(['datasets', 'generate', '--out', out, ...GENERATE, '--seed', '1']),
    runCli(['datasets', 'generate', '--out', out, ...GENERATE, '--seed', '2']),
  ]);
  const winners = [first, second].filter((result) => result.code === 0);
  const loser = [first, second].find((result) => result.code !== 0);
  if (winners.length !== 1 || !loser)
    return { attack, outcome: 'data lost or corrupted', detail: `${winners.length} generators exited 0` };
  if (!/is in use by `vkd datasets generate`/.test(loser.stderr))
    return { attack, outcome: classifyFailure(loser), detail: loser.stderr.trim().slice(0, 200) };
  const seed = winners[0] === first ? 1 : 2;
  const manifest = JSON.parse(await readFile(join(out, 'synthetic.json'), 'utf8')) as {
    options: { seed: number };
    files?: string[];
  };
  const frames = (await readdir(out, { recursive: true })).filter((name) => name.endsWith('.jpg')).length;
  const again = await runCli(['datasets', 'generate', '--out', out, ...GENERATE, '--seed', String(seed)]);
  if (manifest.options.seed !== seed || again.code !== 0)
    return {
      attack,
      outcome: 'data lost or corrupted',
      detail: `manifest seed ${manifest.options.seed}, winner ${seed}; reload exit ${again.code}`,
    };
  return {
    attack,
    outcome: 'clear typed error',
    detail: `the second was refused (${frames} frames of seed ${seed} kept): ${loser.stderr.trim().split('\n')[0]?.slice(0, 140)}`,
  };
}

/** kill -9 leaves a stale lock; two `--resume` at once take it over: exactly one resumes, bit-exact. */
export async function staleLockTakeover(fixture: Fixture, index: number): Promise<AttackResult> {
  const out = join(await workFolder(`stale-${index}`), 'run');
  const attack = 'kill -9, then two --resume at once (stale lock taken over by both?)';
  const child = startCli(teacherArgs(fixture, out));
  let running = true;
  void child.result.then(() => (running = false));
  await waitForSteps(join(out, 'log.jsonl'), 10 + index * 7, () => running);
  child.kill('SIGKILL');
  await child.result;
  const [first, second] = await Promise.all([
    runCli(teacherArgs(fixture, out, ['--resume'])),
    runCli(teacherArgs(fixture, out, ['--resume'])),
  ]);
  const winners = [first, second].filter((result) => result.code === 0);
  const loser = [first, second].find((result) => result.code !== 0);
  if (winners.length !== 1 || !loser)
    return { attack, outcome: 'data lost or corrupted', detail: `${winners.length} resumed runs exited 0` };
  if (!/is in use by/.test(loser.stderr))
    return { attack, outcome: classifyFailure(loser), detail: loser.stderr.trim().slice(0, 200) };
  const compared = await compareWithReference(fixture, out);
  return {
    attack,
    outcome: compared.outcome === 'handled (correct result)' ? 'clear typed error' : compared.outcome,
    detail: `one resumed (${compared.detail}); the other: ${loser.stderr.trim().split('\n')[0]?.slice(0, 120)}`,
  };
}

/** `vkd import-weights` of NaN/Inf tensors, repeated keys and unsafe pickles. */
export async function badWeightFiles(fixture: Fixture): Promise<AttackResult[]> {
  const base = await workFolder('import');
  const results: AttackResult[] = [];
  const weights = join(fixture.reference, 'model', 'weights.safetensors');
  const importArgs = (source: string, out: string) => [
    'import-weights',
    '--device',
    'cpu',
    '--source',
    source,
    '--backbone',
    'resnet18',
    '--base-width',
    '4',
    '--num-identities',
    '8',
    '--out',
    out,
  ];
  const torchLayout = join(base, 'torch-layout.safetensors');
  await writeFile(torchLayout, toTorchLayout(await readFile(weights)));
  for (const [attack, value] of [
    ['NaN', Number.NaN],
    ['+Inf', Number.POSITIVE_INFINITY],
  ] as const) {
    const file = join(base, `${attack}.safetensors`);
    await cp(torchLayout, file);
    await poisonSafetensors(file, value);
    results.push(
      await refusedAndUnchanged(
        `import-weights of a tensor holding ${attack}`,
        importArgs(file, join(base, `out-${attack}`)),
        base,
        /finite/,
      ),
    );
  }
  const clean = await runCli(importArgs(torchLayout, join(base, 'out-clean')));
  results.push({
    attack: 'import-weights of the same file without NaN (control)',
    outcome: clean.code === 0 ? 'handled (correct result)' : classifyFailure(clean),
    detail: `exit ${clean.code} ${clean.stderr.trim().split('\n')[0]?.slice(0, 160) ?? ''}`,
  });
  const bytes = await readFile(weights);
  const headerLength = Number(bytes.readBigUInt64LE(0));
  const header = bytes.subarray(8, 8 + headerLength).toString('utf8');
  const firstKey = /"([^"]+)":\{/.exec(header)?.[1] ?? '';
  const duplicated = header.replace(/}\s*$/, `,"${firstKey}":${JSON.stringify(JSON.parse(header)[firstKey])}}`);
  const file = join(base, 'twice.safetensors');
  const headerBytes = Buffer.from(duplicated.padEnd(Math.ceil(duplicated.length / 8) * 8));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(headerBytes.length));
  await writeFile(file, Buffer.concat([length, headerBytes, bytes.subarray(8 + headerLength)]));
  results.push(
    await refusedAndUnchanged(
      'import-weights of a safetensors header with a repeated key',
      importArgs(file, join(base, 'out-twice')),
      base,
      /duplicate key/,
    ),
  );
  for (const name of ['unsafe-os-system-zip.pth', 'unsafe-os-system-legacy.pth']) {
    results.push(
      await refusedAndUnchanged(
        `import-weights of an unsafe pickle (${name})`,
        importArgs(join(REPOSITORY, 'tools/fixtures/torch-files/reader', name), join(base, `out-${name}`)),
        base,
        /UnsafePickleError|not allowed|unsafe/i,
      ),
    );
  }
  return results;
}

/** Our safetensors (conv HWIO, linear [in, out]) → PyTorch layout (OIHW, [out, in]), as `import-weights` reads it. */
function toTorchLayout(bytes: Buffer): Buffer {
  const headerLength = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8')) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const data = bytes.subarray(8 + headerLength);
  const out: Record<string, unknown> = {};
  const chunks: Buffer[] = [];
  let offset = 0;
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const source = new Float32Array(
      data.buffer.slice(data.byteOffset + entry.data_offsets[0], data.byteOffset + entry.data_offsets[1]),
    );
    let shape = entry.shape;
    let values = source;
    if (entry.shape.length === 4) {
      const [h, w, i, o] = entry.shape as [number, number, number, number];
      values = new Float32Array(source.length);
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++)
          for (let c = 0; c < i; c++)
            for (let k = 0; k < o; k++)
              values[((k * i + c) * h + y) * w + x] = source[((y * w + x) * i + c) * o + k] as number;
      shape = [o, i, h, w];
    } else if (entry.shape.length === 2) {
      const [rows, columns] = entry.shape as [number, number];
      values = new Float32Array(source.length);
      for (let r = 0; r < rows; r++)
        for (let c = 0; c < columns; c++) values[c * rows + r] = source[r * columns + c] as number;
      shape = [columns, rows];
    }
    out[name] = { dtype: 'F32', shape, data_offsets: [offset, offset + values.byteLength] };
    chunks.push(Buffer.from(values.buffer));
    offset += values.byteLength;
  }
  let json = JSON.stringify(out);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([length, Buffer.from(json), ...chunks]);
}

/** The tensor bytes of a safetensors file (its header, with the model's metadata, left out). */
function tensorData(bytes: Buffer): Buffer {
  return bytes.subarray(8 + Number(bytes.readBigUInt64LE(0)));
}
