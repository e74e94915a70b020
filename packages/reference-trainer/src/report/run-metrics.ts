/**
 * The numbers of one evaluation protocol, as written to `metrics.json`. Fractions in [0, 1].
 * `mAP` is the non-interpolated AP (torchreid / fast-reid); `mAPTrapezoid` the trapezoid AP of the official MARS
 * MATLAB code, which the VKD paper reports. `mINP`: Ye et al. 2021.
 */
export interface ProtocolMetrics {
  readonly rank1: number;
  readonly rank5: number;
  readonly mAP: number;
  readonly mAPTrapezoid: number;
  readonly mINP: number;
  /** CMC curve: `cmc[k]` = fraction of queries with a correct match within rank k+1 (first 20 ranks). */
  readonly cmc?: readonly number[];
  readonly validQueries?: number;
}

/**
 * One point of the gallery-frames sweep (paper Fig. 3): V2V with `frames` frames per gallery tracklet. `mAP` is the
 * non-interpolated mean AP and `mAPTrapezoid` the trapezoid one, as in {@link ProtocolMetrics}.
 */
export interface GalleryFramesPoint {
  readonly frames: number;
  readonly rank1: number;
  readonly mAP: number;
  readonly mAPTrapezoid: number;
}

/** I2V rank-1 and non-interpolated mAP of the queries taken by one camera. */
export interface CameraAccuracy {
  /** 0-based camera index of the loader. */
  readonly camera: number;
  /** The dataset's own name of the camera (MARS `C1`…`C6`, VeRi `c001`…), when the loader knows it. */
  readonly cameraName?: string;
  readonly rank1: number;
  readonly mAP: number;
  readonly queries: number;
}

/** Everything measured for one model. `v2v` is absent for image-only sets. */
export interface ModelMetrics {
  readonly i2v: ProtocolMetrics;
  readonly v2v?: ProtocolMetrics;
  /** Image queries against every gallery frame as a single image (VeRi-776, with `i2v`; `vkd-method.md` §5.4). */
  readonly i2i?: ProtocolMetrics;
  /** Video queries against every gallery frame (VeRi-776). */
  readonly v2i?: ProtocolMetrics;
  readonly galleryFrames?: readonly GalleryFramesPoint[];
  readonly perCamera?: readonly CameraAccuracy[];
  /** `vkd evaluate --rerank`: the same protocols after k-reciprocal re-ranking (k1 20, k2 6, λ 0.3). */
  readonly reranked?: {
    readonly i2v?: ProtocolMetrics;
    readonly v2v?: ProtocolMetrics;
    readonly i2i?: ProtocolMetrics;
    readonly v2i?: ProtocolMetrics;
  };
}

/**
 * Schema of `metrics.json` written by `vkd demo` and `vkd evaluate`:
 * `{ teacher: { i2v: { rank1, rank5, mAP, mAPTrapezoid, mINP, cmc }, v2v: {…}, galleryFrames, perCamera },
 *    student: {…}, settings: {…} }`. Either model may be missing (`vkd evaluate` of one checkpoint writes `model`).
 */
export interface RunMetrics {
  readonly teacher?: ModelMetrics;
  readonly student?: ModelMetrics;
  /**
   * Optional control: a student initialised and trained exactly like `student` (same data, epochs, M of N views) but
   * without the distillation terms (α = β = 0), so `student − baseline` isolates what KD and DP contribute.
   */
  readonly baseline?: ModelMetrics;
  /**
   * Optional ablation students (`vkd demo --ablation`), trained like `student` with only one distillation term:
   * `kdOnly` (β = 0) and `dpOnly` (α = 0); the paper's "On the impact of loss terms".
   */
  readonly ablation?: { readonly kdOnly?: ModelMetrics; readonly dpOnly?: ModelMetrics };
  /** A single evaluated model (`vkd evaluate --checkpoint`). */
  readonly model?: ModelMetrics;
  /** The resolved options of the run, plus timings and the backend. */
  readonly settings: Record<string, unknown>;
}

/** One loss observation, normalised from the trainer's JSONL logs for charts. */
export interface LossPoint {
  readonly stage: 'teacher' | 'student';
  readonly epoch: number;
  readonly term: string;
  readonly value: number;
}

/** One evaluation during training (`--eval-every`), read from an epoch line of a JSONL log. */
export interface EvaluationPoint {
  readonly stage: 'teacher' | 'student';
  /** 1-based epoch after which the model was evaluated. */
  readonly epoch: number;
  /** `metrics.json` name with its protocol, e.g. `i2v.mAP`, `v2v.rank1`. */
  readonly metric: string;
  /** Fraction in [0, 1]. */
  readonly value: number;
}
