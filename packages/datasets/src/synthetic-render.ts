import { createRandom } from '@vkd/core';
import { SKIN, SYNTHETIC_VIEWS, type SyntheticCamera, type SyntheticIdentity } from './synthetic-plan';

/** Where and how one frame shows its identity. */
export interface FramePose {
  /** Viewpoint angle in degrees (0 front, 90 left side, 180 back, 270 right side). */
  readonly angle: number;
  /** Horizontal / vertical offset of the person in pixels. */
  readonly shiftX: number;
  readonly shiftY: number;
  /** Size factor (≈ 0.9–1.05). */
  readonly scale: number;
  /** Brightness flicker factor (≈ 0.93–1.07). */
  readonly flicker: number;
  /** Seed of the pixel noise. */
  readonly noiseSeed: number;
}

const NOISE_TABLE_SIZE = 1 << 16;
let noiseTable: Float32Array | undefined;

/** A fixed table of standard-normal values: per-pixel Box–Muller would dominate the generator's run time. */
function standardNormals(): Float32Array {
  if (!noiseTable) {
    const random = createRandom(0x0badcafe);
    noiseTable = new Float32Array(NOISE_TABLE_SIZE);
    for (let i = 0; i < NOISE_TABLE_SIZE; i++) noiseTable[i] = random.normal();
  }
  return noiseTable;
}

/** Relative body width of a viewpoint: sides are narrower than front and back. */
const viewWidth = (view: number) => (view % 2 === 0 ? 1 : 0.62);

/**
 * Renders one frame as RGB bytes `[H, W, 3]`: the camera's textured background under its lighting, a person whose
 * body shows what the two viewpoints around `pose.angle` show (blended column-wise, so a turning person changes
 * gradually): upper/lower colours and hair always, the front pattern from the front, the backpack from the back
 * (and as a strip from the sides), the bag from the left; then camera noise.
 */
export function renderSyntheticFrame(
  identity: SyntheticIdentity,
  camera: SyntheticCamera,
  pose: FramePose,
  height: number,
  width: number,
): Uint8Array {
  const pixels = new Uint8Array(height * width * 3);
  const angle = ((pose.angle % 360) + 360) % 360;
  const firstView = Math.floor(angle / 90) % SYNTHETIC_VIEWS;
  const secondView = (firstView + 1) % SYNTHETIC_VIEWS;
  const blend = (angle - firstView * 90) / 90;
  const bodyHeight = 0.9 * height * pose.scale * identity.stature;
  const top = 0.05 * height + pose.shiftY + (0.9 * height - bodyHeight);
  const centreX = width / 2 + pose.shiftX;
  const halfWidth = 0.33 * width * pose.scale * ((1 - blend) * viewWidth(firstView) + blend * viewWidth(secondView));
  const headY = top + 0.08 * bodyHeight;
  const headRadiusY = 0.075 * bodyHeight;
  const headRadiusX = 0.16 * width * pose.scale;
  const torsoTop = top + 0.16 * bodyHeight;
  const legsTop = top + 0.52 * bodyHeight;
  const bottom = top + bodyHeight;
  const packTop = torsoTop + 0.1 * (legsTop - torsoTop);
  const packBottom = legsTop - 0.12 * (legsTop - torsoTop);
  const bagTop = legsTop - 0.06 * bodyHeight;
  const bagBottom = legsTop + 0.1 * bodyHeight;
  // Hair covers more of the head from the back: front 30 %, sides 60 %, back 100 %.
  const hairCover = [0.3, 0.6, 1, 0.6];
  const hairLine = (1 - blend) * (hairCover[firstView] as number) + blend * (hairCover[secondView] as number);
  const frontFacing = firstView !== 1 && firstView !== 2; // which side of the body shows the first view
  const stripe = Math.max(2, Math.round(height / 32));
  const normals = standardNormals();
  let noiseIndex = (pose.noiseSeed >>> 0) % NOISE_TABLE_SIZE;
  const { gain, noise } = camera;
  const backdrop = backgroundImage(camera, height, width);
  const legGap = halfWidth * 0.12 * (1 - Math.abs(Math.sin((angle * Math.PI) / 180))); // front/back views show a gap
  const [gainRed, gainGreen, gainBlue] = gain;
  const mask = NOISE_TABLE_SIZE - 1;
  const { upper, lower, backpack, bag, pattern } = identity;
  for (let y = 0; y < height; y++) {
    const headRow = ((y + 0.5 - headY) / headRadiusY) ** 2;
    const isHair = (y + 0.5 - (headY - headRadiusY)) / (2 * headRadiusY) < hairLine;
    const inBody = y >= torsoTop && y < bottom;
    const isUpper = y < legsTop;
    const inPack = y >= packTop && y < packBottom;
    const inBag = y >= bagTop && y < bagBottom;
    const bodyHalfWidth = halfWidth * (isUpper ? 1 : 0.8);
    const stripeRow = Math.floor(y / stripe) % 2;
    for (let x = 0; x < width; x++) {
      const offset = (y * width + x) * 3;
      const dx = x + 0.5 - centreX;
      let colour: readonly number[] | undefined;
      let shade = 1;
      if ((dx / headRadiusX) ** 2 + headRow <= 1) colour = isHair ? identity.hair : SKIN;
      else if (inBody && Math.abs(dx) < bodyHalfWidth) {
        const across = (dx + halfWidth) / (2 * halfWidth);
        const view = (frontFacing ? across >= blend : across < 1 - blend) ? firstView : secondView;
        if (view === 1 && bag && inBag && across > 0.2 && across < 0.62) colour = bag;
        else if (isUpper) {
          const packVisible =
            view === 2
              ? Math.abs(across - 0.5) < 0.36
              : view === 1
                ? across > 0.76
                : view === 3
                  ? across < 0.24
                  : false;
          if (backpack && inPack && packVisible) colour = backpack;
          else {
            colour = upper;
            if (view === 0 && pattern > 0) {
              const stripeColumn = Math.floor(x / stripe) % 2;
              const band = pattern === 1 ? stripeRow : pattern === 2 ? stripeColumn : (stripeRow + stripeColumn) % 2;
              if (band === 1) shade = 0.5;
            }
          }
        } else if (Math.abs(dx) >= legGap) colour = lower;
      }
      const red = colour ? (colour[0] as number) * shade : (backdrop[offset] as number);
      const green = colour ? (colour[1] as number) * shade : (backdrop[offset + 1] as number);
      const blue = colour ? (colour[2] as number) * shade : (backdrop[offset + 2] as number);
      pixels[offset] = clamp(red * gainRed * pose.flicker + noise * (normals[noiseIndex++ & mask] as number));
      pixels[offset + 1] = clamp(green * gainGreen * pose.flicker + noise * (normals[noiseIndex++ & mask] as number));
      pixels[offset + 2] = clamp(blue * gainBlue * pose.flicker + noise * (normals[noiseIndex++ & mask] as number));
    }
  }
  return pixels;
}

const backgrounds = new WeakMap<SyntheticCamera, Map<string, Float32Array>>();

/** The camera's textured, graded background `[H, W, 3]` before lighting and noise (cached per camera and size). */
function backgroundImage(camera: SyntheticCamera, height: number, width: number): Float32Array {
  const bySize = backgrounds.get(camera) ?? new Map<string, Float32Array>();
  backgrounds.set(camera, bySize);
  const key = `${height}x${width}`;
  const cached = bySize.get(key);
  if (cached) return cached;
  const { background: base, backgroundGradient: gradient, texture } = camera;
  const image = new Float32Array(height * width * 3);
  for (let y = 0; y < height; y++) {
    const t = y / height;
    for (let x = 0; x < width; x++) {
      const wave = texture.amplitude * Math.sin(texture.frequencyX * x + texture.frequencyY * y + texture.phase);
      const offset = (y * width + x) * 3;
      image[offset] = base[0] + gradient[0] * t + wave;
      image[offset + 1] = base[1] + gradient[1] * t + wave;
      image[offset + 2] = base[2] + gradient[2] * t - wave;
    }
  }
  bySize.set(key, image);
  return image;
}

function clamp(value: number): number {
  return value < 0 ? 0 : value > 255 ? 255 : Math.round(value);
}
