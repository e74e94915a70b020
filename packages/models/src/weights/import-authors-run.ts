import { createReidModel, type ReidModel } from '../reid-model';
import { validateReidModelOptions } from '../model-options';
import { readAuthorsRunFolder, type AuthorsRunFolder } from './authors-run-folder';
import { inferBaseWidth } from './backbone-match';
import { importTorchWeights, type ImportReport } from './import-torch-weights';
import { readFileBytes } from './read-bytes';
import { readWeightsFile } from './weights-file';

/** Options of {@link importAuthorsRun}. */
export interface ImportAuthorsRunOptions {
  /** Checkpoint name in `chk/` (default `chk_end`). */
  checkpoint?: string;
  /** Seed of the model's initial values (all of them are then replaced; default 0). */
  seed?: number;
  /** As in {@link importTorchWeights}: accept weights the checkpoint lacks / keys the model lacks. */
  allowMissing?: boolean;
  allowUnexpected?: boolean;
}

/**
 * Builds the model an authors' run folder describes (backbone and classifier size from `params/hparams.json`, width
 * from the checkpoint's first convolution) and loads `chk/<checkpoint>` into it (VKD key format, every weight
 * required unless allowed). Node only.
 * @returns the model (the caller disposes it), the import report and what was read from the folder.
 * @throws as {@link readAuthorsRunFolder} and {@link importTorchWeights}.
 */
export async function importAuthorsRun(
  folder: string,
  options: ImportAuthorsRunOptions = {},
): Promise<{ model: ReidModel; report: ImportReport; run: AuthorsRunFolder }> {
  const run = await readAuthorsRunFolder(folder, options.checkpoint);
  const bytes = await readFileBytes(run.checkpointPath);
  const { entries } = readWeightsFile(bytes, run.checkpointPath);
  const config = validateReidModelOptions({
    backbone: run.backbone,
    attention: run.attention,
    numIdentities: run.numIdentities,
    seed: options.seed ?? 0,
  });
  const model = createReidModel({ ...config, baseWidth: inferBaseWidth(entries, 'vkd', config) });
  try {
    const report = await importTorchWeights(model, bytes, {
      format: 'vkd',
      sourceName: run.checkpointPath,
      allowMissing: options.allowMissing,
      allowUnexpected: options.allowUnexpected,
    });
    return { model, report, run };
  } catch (error) {
    model.dispose();
    throw error;
  }
}
