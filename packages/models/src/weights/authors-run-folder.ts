import { CheckpointError, FileFormatError, importNodeBuiltin, InvalidOptionError, parseStrictJson } from '@vkd/core';
import { resolveAuthorsBackbone } from '../backbones/authors-backbone-name';
import type { AttentionName } from '../model-options';

/** The checkpoint the authors' scripts load unless told otherwise (`tools/eval.py --trinet_chk_name`). */
export const AUTHORS_DEFAULT_CHECKPOINT = 'chk_end';

/** An authors' run folder (aimagelab/VKD `utils/saver.py`: `chk/<name>`, `params/hparams.json`), as read. */
export interface AuthorsRunFolder {
  folder: string;
  /** Checkpoint name within `chk/`, e.g. `chk_end` or `chk_di_1`. */
  checkpoint: string;
  checkpointPath: string;
  hparamsPath: string;
  /** `hparams.json` `backbone_type`, the authors' name (e.g. `resnet50bam`). */
  backboneType: string;
  backbone: string;
  attention: AttentionName;
  /** `hparams.json` `num_classes`: the classifier size. */
  numIdentities: number;
}

type FileSystem = typeof import('node:fs/promises');
type Paths = typeof import('node:path');

/** Whether `path` is a folder laid out as an authors' run (it has `params/hparams.json` or `chk/`). */
export async function looksLikeAuthorsRunFolder(path: string): Promise<boolean> {
  const { stat } = await importNodeBuiltin<FileSystem>('node:fs/promises', 'reading a run folder');
  const { join } = await importNodeBuiltin<Paths>('node:path', 'reading a run folder');
  const isDirectory = async (candidate: string) =>
    (await stat(candidate).catch(() => undefined))?.isDirectory() ?? false;
  if (!(await isDirectory(path))) return false;
  return (await isDirectory(join(path, 'chk'))) || (await isDirectory(join(path, 'params')));
}

/**
 * Reads an authors' run folder: backbone and classifier size from `params/hparams.json` (TriNet's constructor
 * arguments `backbone_type`, `num_classes`), the checkpoint path `chk/<checkpoint>`.
 * @throws CheckpointError for a missing hparams.json or checkpoint (listing what `chk/` holds); FileFormatError for
 *   an hparams.json that is not JSON, lacks a key, or names an unknown backbone; InvalidOptionError for a checkpoint
 *   name with a path separator.
 */
export async function readAuthorsRunFolder(
  folder: string,
  checkpoint = AUTHORS_DEFAULT_CHECKPOINT,
): Promise<AuthorsRunFolder> {
  const { readFile, readdir, stat } = await importNodeBuiltin<FileSystem>('node:fs/promises', 'reading a run folder');
  const { join } = await importNodeBuiltin<Paths>('node:path', 'reading a run folder');
  if (checkpoint === '' || /[\\/]/.test(checkpoint)) {
    throw new InvalidOptionError(
      '--checkpoint',
      checkpoint,
      "Give a checkpoint name inside the run folder's chk/, e.g. chk_end or chk_di_1.",
    );
  }
  const hparamsPath = join(folder, 'params', 'hparams.json');
  const checkpointPath = join(folder, 'chk', checkpoint);
  const text = await readFile(hparamsPath, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new CheckpointError(
      folder,
      `${error.code === 'ENOENT' ? 'has no params/hparams.json' : `cannot read params/hparams.json (${error.message})`}. An authors' run folder (aimagelab/VKD) holds chk/<checkpoint> and params/hparams.json ({"backbone_type", "num_classes", …}); restore that file, or import the checkpoint itself: --source ${checkpointPath} --backbone NAME --num-identities N.`,
      { cause: error },
    );
  });
  let hparams: Record<string, unknown>;
  try {
    hparams = parseStrictJson(text) as Record<string, unknown>;
  } catch (error) {
    throw new FileFormatError(hparamsPath, `not valid JSON (${(error as Error).message}).`, { cause: error });
  }
  const backboneType = hparams?.backbone_type;
  const numClasses = hparams?.num_classes;
  if (typeof backboneType !== 'string')
    throw new FileFormatError(
      hparamsPath,
      `"backbone_type" is ${JSON.stringify(backboneType)}; expected the authors' backbone name, e.g. "resnet50".`,
    );
  if (!Number.isInteger(numClasses) || (numClasses as number) < 1)
    throw new FileFormatError(
      hparamsPath,
      `"num_classes" is ${JSON.stringify(numClasses)}; expected the number of training identities, e.g. 625.`,
    );
  let resolved: { backbone: string; attention: AttentionName };
  try {
    resolved = resolveAuthorsBackbone(backboneType);
  } catch (error) {
    throw new FileFormatError(hparamsPath, `"backbone_type": ${(error as Error).message}`, { cause: error });
  }
  if (!(await stat(checkpointPath).catch(() => undefined))?.isFile()) {
    const present = await readdir(join(folder, 'chk')).catch(() => undefined);
    throw new CheckpointError(
      checkpointPath,
      `no such checkpoint in the run folder; ${present ? `chk/ holds: ${present.sort().join(', ') || 'nothing'}` : 'the folder has no chk/'}. Choose one with --checkpoint NAME.`,
    );
  }
  return {
    folder,
    checkpoint,
    checkpointPath,
    hparamsPath,
    backboneType,
    ...resolved,
    numIdentities: numClasses as number,
  };
}
