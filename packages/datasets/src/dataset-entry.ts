import type { DatasetLoader, LoadDatasetOptions } from './types';

/** Retrieval protocols of the VKD paper (`vkd-method.md` §5): image or video queries against videos or images. */
export type EvaluationProtocol = 'i2v' | 'v2v' | 'i2i' | 'v2i';

/** Every {@link EvaluationProtocol}, in the order reports list them. */
export const EVALUATION_PROTOCOLS: readonly EvaluationProtocol[] = ['i2v', 'v2v', 'i2i', 'v2i'];

/**
 * Teacher-stage settings the authors ran on a dataset (`commands.txt`, `vkd-method.md` §3.2–3.3); fields left out
 * keep the trainer's defaults (`TEACHER_DEFAULTS` of `@vkd/trainer`).
 */
export interface AuthorsTeacherSettings {
  readonly epochs?: number;
  readonly milestones?: readonly number[];
  /** P identities per batch. */
  readonly identitiesPerBatch?: number;
  /** K tracklets per identity. */
  readonly instancesPerIdentity?: number;
  /** N frames per tracklet. */
  readonly framesPerTracklet?: number;
}

/** One network of the authors' runs on a dataset: preset `<presetPrefix>-<name>`. */
export interface AuthorsNetwork {
  /** Preset suffix, e.g. `'resnet50bam'`. */
  readonly name: string;
  /** A backbone name of `@vkd/models`. */
  readonly backbone: string;
  readonly attention: 'none' | 'bam';
}

/** How the VKD authors ran a dataset (preset hook): the `vkd` CLI builds one `--preset` per network from it. */
export interface AuthorsRuns {
  /** Preset names are `<presetPrefix>-<network>`, e.g. `mars-resnet50`. */
  readonly presetPrefix: string;
  /** `[H, W]` input size (MARS/Duke 256×128, VeRi 224×224). */
  readonly imageSize: readonly [number, number];
  /** Frames per query/gallery tracklet at test time. */
  readonly testFrames: number;
  /** The networks they trained (one preset each). */
  readonly networks: readonly AuthorsNetwork[];
  /**
   * Further `vkd` option values of every preset of this dataset, camelCase, e.g. `{ trackletGrouping: 'vkd' }` for
   * the authors' Duke grouping.
   */
  readonly presetValues?: Readonly<Record<string, string | number | boolean>>;
}

/**
 * One row of the dataset table: everything the trainer and the `vkd` CLI need to know about a dataset, so that
 * neither switches on dataset names. Register more with `registerDataset`.
 */
export interface DatasetEntry<Options extends LoadDatasetOptions = LoadDatasetOptions> {
  /** `--dataset` value and `ReidDataset.name`. */
  readonly name: string;
  /** One line for help texts. */
  readonly description: string;
  readonly load: DatasetLoader<Options>;
  /** Protocols `evaluateModel` reports by default; the first is the headline metric (default `['i2v', 'v2v']`). */
  readonly protocols: readonly EvaluationProtocol[];
  /**
   * V2V / V2I with single-image queries: use the first gallery track of the same identity and camera as the query
   * "video" (VeRi-776, `vkd-method.md` §5.4). Default false (query tracklets are used as they are).
   */
  readonly videoQueriesFromGallery?: boolean;
  /**
   * Options added when a command loads a root that already exists (`vkd train-teacher`, `evaluate`, `datasets
   * stats`), e.g. `{ generate: false }` for `synthetic` so that loading never (re)generates frames.
   */
  readonly loadExisting?: Partial<Options>;
  /**
   * The authors' teacher-stage settings on this dataset for a backbone (e.g. ResNet-18 decays earlier on MARS);
   * without it the trainer's `TEACHER_DEFAULTS` apply.
   */
  teacherDefaults?(backbone: string): AuthorsTeacherSettings;
  /**
   * Random-erasing aspect range of training frames, `[low, high]`; default the person range `[0.3, 3.3]`
   * (`data/misc.py` `erase_ratio`: VeRi and every other dataset `[0.7, 1.4]`).
   */
  readonly erasingAspect?: readonly [number, number];
  /**
   * How frames are resized to the input size, train and test: default exact (bicubic, aspect not kept, as MARS, Duke
   * and VeRi); `'letterbox'` keeps the aspect and pads (the authors' `AdaptiveResize` for other datasets).
   */
  readonly resize?: 'letterbox';
  /**
   * Values the loader's `grouping` option accepts (how frames form tracklets), the loader's default first; absent when
   * it has none. `vkd --tracklet-grouping` offers them.
   */
  readonly groupings?: readonly string[];
  /** The authors' runs, one `vkd --preset` each; absent for datasets they did not use. */
  readonly authors?: AuthorsRuns;
}
