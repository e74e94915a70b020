import { InvalidOptionError, MAX_SEED, createRandom, type Random } from '@vkd/core';

/** Options of `generateSyntheticDataset`. */
export interface SyntheticDatasetOptions {
  /** Output folder (created). */
  readonly root: string;
  /** Total identities (default 40); the first `trainIdentities` go to `bbox_train`, the rest to `bbox_test`. */
  readonly identities?: number;
  /** Cameras, 2..9 (default 4); each sees its own viewpoint range, background, lighting and noise. */
  readonly cameras?: number;
  /** Tracklets per identity **per camera** (default 2). */
  readonly trackletsPerIdentity?: number;
  /** Frames per tracklet (default 8). */
  readonly framesPerTracklet?: number;
  /** Frame height in pixels (default 128). */
  readonly height?: number;
  /** Frame width in pixels (default 64). */
  readonly width?: number;
  /** Seed; the same options give byte-identical files with the same sharp/libvips version (default 0). */
  readonly seed?: number;
  /** Training identities (default half of `identities`, rounded up). */
  readonly trainIdentities?: number;
  /** JPEG quality (default 90). */
  readonly quality?: number;
}

/** Number of viewpoints: 0 front, 1 left side, 2 back, 3 right side (90° apart). */
export const SYNTHETIC_VIEWS = 4;

/** Attribute value counts (each attribute is an index; 0 means "none" for `backpack` and `bag`). */
export interface AttributeSizes {
  readonly upper: number;
  readonly lower: number;
  readonly hair: number;
  /** Pattern on the front of the upper body only: 0 plain, 1 horizontal stripes, 2 vertical stripes, 3 checks. */
  readonly pattern: number;
  /** Backpack: seen on the back, and as a strip on the back edge from the sides. */
  readonly backpack: number;
  /** Shoulder bag on the left hip: seen from the left side only. */
  readonly bag: number;
}

/**
 * Which attributes each viewpoint shows. Upper/lower colours and hair are seen from every view (so views of one
 * person are correlated, as in real data); the pattern, backpack and bag only from some.
 */
export const VISIBLE_ATTRIBUTES: readonly (readonly (keyof AttributeSizes)[])[] = [
  ['upper', 'lower', 'hair', 'pattern'],
  ['upper', 'lower', 'hair', 'backpack', 'bag'],
  ['upper', 'lower', 'hair', 'backpack'],
  ['upper', 'lower', 'hair', 'backpack'],
];

type Rgb = readonly [number, number, number];

/** One identity of a synthetic plan: its attributes (what each viewpoint shows) and body proportions. */
export interface SyntheticIdentity {
  /** 1-based identity as written in file names. */
  readonly id: number;
  readonly split: 'train' | 'test';
  /** Attribute indices (see {@link AttributeSizes}). */
  readonly attributes: Readonly<Record<keyof AttributeSizes, number>>;
  readonly upper: Rgb;
  readonly lower: Rgb;
  readonly hair: Rgb;
  readonly pattern: number;
  /** Backpack colour, or undefined. */
  readonly backpack: Rgb | undefined;
  /** Bag colour, or undefined. */
  readonly bag: Rgb | undefined;
  /** Body height factor (0.92–1.0). */
  readonly stature: number;
}

/** One camera of a synthetic plan: the viewpoints it sees, its background, light and noise. */
export interface SyntheticCamera {
  /** Centre of the viewpoint range this camera sees, degrees (0 = front). */
  readonly viewCentre: number;
  /** Half-width of the viewpoint range, degrees. */
  readonly viewSpread: number;
  readonly background: readonly [number, number, number];
  readonly backgroundGradient: readonly [number, number, number];
  readonly texture: {
    readonly amplitude: number;
    readonly frequencyX: number;
    readonly frequencyY: number;
    readonly phase: number;
  };
  /** Multiplicative gain per channel (lighting and colour cast). */
  readonly gain: readonly [number, number, number];
  /** Standard deviation of the pixel noise (0..255 units). */
  readonly noise: number;
}

/** What {@link planSyntheticDataset} decides before any file is written: identities, cameras, attribute sizes. */
export interface SyntheticPlan {
  readonly options: Required<Omit<SyntheticDatasetOptions, 'root'>>;
  readonly identities: readonly SyntheticIdentity[];
  readonly cameras: readonly SyntheticCamera[];
  /** How many values each attribute takes (grown with the number of identities). */
  readonly attributeSizes: AttributeSizes;
}

const PALETTE: readonly (readonly [number, number, number])[] = [
  [200, 40, 40],
  [40, 150, 60],
  [40, 70, 190],
  [220, 200, 50],
  [50, 190, 200],
  [190, 60, 170],
  [225, 225, 225],
  [60, 60, 60],
  [230, 130, 40],
  [120, 70, 40],
];
/** One skin tone for everyone, so that heads do not identify people on their own. */
export const SKIN: readonly [number, number, number] = [215, 170, 135];
const HAIR: readonly (readonly [number, number, number])[] = [
  [30, 25, 20],
  [200, 170, 90],
  [110, 70, 30],
  [150, 150, 150],
];

function checkInteger(option: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max)
    throw new InvalidOptionError(`generateSyntheticDataset.${option}`, value, `Use an integer in ${min}..${max}.`);
}

/**
 * Inclusive ranges of the generator options (the CLI's `vkd datasets generate` flags read them from here), and the
 * largest set in frames: the plan keeps every tracklet in memory, and MARS itself has about 1.2 M frames.
 */
export const SYNTHETIC_LIMITS = {
  identities: { min: 2, max: 9999 },
  cameras: { min: 2, max: 9 },
  trackletsPerIdentity: { min: 1, max: 99 },
  framesPerTracklet: { min: 1, max: 999 },
  height: { min: 16, max: 1024 },
  width: { min: 8, max: 1024 },
  totalFrames: 2_000_000,
} as const;

/** Fills defaults and range-checks the generator options. @throws InvalidOptionError */
export function validateSyntheticOptions(options: Omit<SyntheticDatasetOptions, 'root'>): SyntheticPlan['options'] {
  const identities = options.identities ?? 40;
  const resolved = {
    identities,
    cameras: options.cameras ?? 4,
    trackletsPerIdentity: options.trackletsPerIdentity ?? 2,
    framesPerTracklet: options.framesPerTracklet ?? 8,
    height: options.height ?? 128,
    width: options.width ?? 64,
    seed: options.seed ?? 0,
    trainIdentities: options.trainIdentities ?? Math.ceil(identities / 2),
    quality: options.quality ?? 90,
  };
  checkInteger('identities', resolved.identities, SYNTHETIC_LIMITS.identities.min, SYNTHETIC_LIMITS.identities.max);
  checkInteger('cameras', resolved.cameras, SYNTHETIC_LIMITS.cameras.min, SYNTHETIC_LIMITS.cameras.max);
  checkInteger(
    'trackletsPerIdentity',
    resolved.trackletsPerIdentity,
    SYNTHETIC_LIMITS.trackletsPerIdentity.min,
    SYNTHETIC_LIMITS.trackletsPerIdentity.max,
  );
  checkInteger(
    'framesPerTracklet',
    resolved.framesPerTracklet,
    SYNTHETIC_LIMITS.framesPerTracklet.min,
    SYNTHETIC_LIMITS.framesPerTracklet.max,
  );
  checkInteger('height', resolved.height, SYNTHETIC_LIMITS.height.min, SYNTHETIC_LIMITS.height.max);
  checkInteger('width', resolved.width, SYNTHETIC_LIMITS.width.min, SYNTHETIC_LIMITS.width.max);
  // The generator's state is 32 bits: a negative seed or one past MAX_SEED would alias another seed's set.
  checkInteger('seed', resolved.seed, 0, MAX_SEED);
  checkInteger('trainIdentities', resolved.trainIdentities, 1, identities - 1);
  checkInteger('quality', resolved.quality, 1, 100);
  const frames = resolved.identities * resolved.cameras * resolved.trackletsPerIdentity * resolved.framesPerTracklet;
  if (frames > SYNTHETIC_LIMITS.totalFrames) {
    throw new InvalidOptionError(
      'generateSyntheticDataset.framesPerTracklet',
      resolved.framesPerTracklet,
      `identities × cameras × trackletsPerIdentity × framesPerTracklet = ${frames.toLocaleString('en-US')} frames; the generator makes at most ${SYNTHETIC_LIMITS.totalFrames.toLocaleString('en-US')}: use fewer identities, tracklets or frames.`,
    );
  }
  return resolved;
}

/**
 * Plans a synthetic multi-view dataset (pure: no files). Each identity is a tuple of attributes: upper and lower
 * colours and hair (seen from every viewpoint), a front pattern, a backpack (back and sides) and a bag (left side).
 * Value counts are kept small, so what one viewpoint shows is shared by several identities, while the whole tuple is
 * unique. Camera `c` sees viewpoints around
 * `c · 360° / cameras` (±50°), with its own background, lighting and noise.
 */
export function planSyntheticDataset(options: Omit<SyntheticDatasetOptions, 'root'>): SyntheticPlan {
  const resolved = validateSyntheticOptions(options);
  const random = createRandom(resolved.seed ^ 0x5eed1234);
  const attributeSizes = sizeAttributes(resolved.identities);
  const colours = random.shuffle([...PALETTE.keys()]);
  const upperColours = colours.slice(0, attributeSizes.upper);
  const lowerColours = random.shuffle([...PALETTE.keys()]).slice(0, attributeSizes.lower);
  const accessoryColours = random.shuffle([...PALETTE.keys()]);
  const tuples = drawTuples(random, resolved.identities, attributeSizes);
  const identities = tuples.map(
    (attributes, index): SyntheticIdentity => ({
      id: index + 1,
      split: index < resolved.trainIdentities ? 'train' : 'test',
      attributes,
      upper: PALETTE[upperColours[attributes.upper] as number] as Rgb,
      lower: PALETTE[lowerColours[attributes.lower] as number] as Rgb,
      hair: HAIR[attributes.hair % HAIR.length] as Rgb,
      pattern: attributes.pattern,
      backpack:
        attributes.backpack === 0 ? undefined : (PALETTE[accessoryColours[attributes.backpack - 1] as number] as Rgb),
      bag:
        attributes.bag === 0
          ? undefined
          : (PALETTE[accessoryColours[accessoryColours.length - attributes.bag] as number] as Rgb),
      stature: 0.92 + 0.08 * random.next(),
    }),
  );
  const cameras = Array.from({ length: resolved.cameras }, (_, camera): SyntheticCamera => {
    const light = 0.7 + 0.5 * random.next();
    return {
      viewCentre: (camera * 360) / resolved.cameras + 20 * (random.next() - 0.5),
      viewSpread: 50,
      background: [60 + 150 * random.next(), 60 + 150 * random.next(), 60 + 150 * random.next()],
      backgroundGradient: [60 * (random.next() - 0.5), 60 * (random.next() - 0.5), 60 * (random.next() - 0.5)],
      texture: {
        amplitude: 10 + 25 * random.next(),
        frequencyX: 0.5 * random.next(),
        frequencyY: 0.5 * random.next(),
        phase: 6.283 * random.next(),
      },
      gain: [
        light * (0.85 + 0.3 * random.next()),
        light * (0.85 + 0.3 * random.next()),
        light * (0.85 + 0.3 * random.next()),
      ],
      noise: 3 + 9 * random.next(),
    };
  });
  return { options: resolved, identities, cameras, attributeSizes };
}

/** What viewpoint `view` shows of an identity, as a string (identities with equal signatures look alike from it). */
export function visibleSignature(identity: SyntheticIdentity, view: number): string {
  return (VISIBLE_ATTRIBUTES[view] ?? []).map((name) => `${name}=${identity.attributes[name]}`).join(' ');
}

/** Growth order: view-specific attributes first, so that what every view shows stays ambiguous. */
const ATTRIBUTE_ORDER: readonly (keyof AttributeSizes)[] = ['pattern', 'backpack', 'bag', 'upper', 'lower', 'hair'];
const ATTRIBUTE_LIMITS: AttributeSizes = { upper: 8, lower: 8, hair: HAIR.length, pattern: 4, backpack: 6, bag: 3 };

/** Smallest sizes (grown round-robin) whose product is at least twice the identity count. */
function sizeAttributes(identities: number): AttributeSizes {
  const sizes: Record<keyof AttributeSizes, number> = { upper: 2, lower: 2, hair: 1, pattern: 2, backpack: 2, bag: 2 };
  const product = () => ATTRIBUTE_ORDER.reduce((total, name) => total * sizes[name], 1);
  let turn = 0;
  while (product() < 2 * identities && ATTRIBUTE_ORDER.some((name) => sizes[name] < ATTRIBUTE_LIMITS[name])) {
    const name = ATTRIBUTE_ORDER[turn++ % ATTRIBUTE_ORDER.length] as keyof AttributeSizes;
    if (sizes[name] < ATTRIBUTE_LIMITS[name]) sizes[name]++;
  }
  return sizes;
}

/** Distinct attribute tuples, drawn uniformly (the sizes leave at least twice as many tuples as identities). */
function drawTuples(random: Random, count: number, sizes: AttributeSizes): Record<keyof AttributeSizes, number>[] {
  const seen = new Set<string>();
  const tuples: Record<keyof AttributeSizes, number>[] = [];
  while (tuples.length < count) {
    const candidate = Object.fromEntries(ATTRIBUTE_ORDER.map((name) => [name, random.integer(sizes[name])])) as Record<
      keyof AttributeSizes,
      number
    >;
    const key = ATTRIBUTE_ORDER.map((name) => candidate[name]).join('/');
    if (seen.has(key)) continue;
    seen.add(key);
    tuples.push(candidate);
  }
  return tuples;
}
