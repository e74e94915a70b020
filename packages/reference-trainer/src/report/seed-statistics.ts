import { InvalidOptionError } from '@vkd/core';

/** Mean and sample standard deviation (n − 1 denominator) of one measure over seeds. */
export interface SeedSummary {
  readonly count: number;
  readonly mean: number;
  /** Sample standard deviation (Bessel's n − 1); 0 for a single value. */
  readonly standardDeviation: number;
}

/** A paired difference `a − b` over seeds with its Student-t confidence interval. */
export interface PairedDifference extends SeedSummary {
  /** Confidence level of the interval, e.g. 0.95. */
  readonly confidence: number;
  /** Two-sided t quantile used, `t(1 − (1 − confidence)/2, count − 1)`. */
  readonly tQuantile: number;
  readonly low: number;
  readonly high: number;
  /** Whether the interval lies entirely above or entirely below 0. */
  readonly excludesZero: boolean;
}

function checkValues(name: string, values: readonly number[], minimum: number): void {
  if (values.length < minimum) {
    throw new InvalidOptionError(
      name,
      values,
      `Need at least ${minimum} value${minimum === 1 ? '' : 's'} (one per seed).`,
    );
  }
  const bad = values.findIndex((value) => !Number.isFinite(value));
  if (bad >= 0) throw new InvalidOptionError(name, values, `Value ${bad + 1} is not a finite number.`);
}

/**
 * Mean and sample standard deviation.
 * @throws InvalidOptionError for an empty list or a non-finite value.
 */
export function summarize(values: readonly number[]): SeedSummary {
  checkValues('summarize.values', values, 1);
  const count = values.length;
  const mean = values.reduce((sum, value) => sum + value, 0) / count;
  const squares = values.reduce((sum, value) => sum + (value - mean) ** 2, 0);
  return { count, mean, standardDeviation: count > 1 ? Math.sqrt(squares / (count - 1)) : 0 };
}

/** ln Γ(x) for x > 0 (Lanczos, g = 7, 9 coefficients: ~15 significant digits). */
function logGamma(x: number): number {
  const coefficients = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const shifted = x - 1;
  let sum = coefficients[0] as number;
  for (let index = 1; index < coefficients.length; index++) sum += (coefficients[index] as number) / (shifted + index);
  const t = shifted + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (shifted + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** Continued fraction of the incomplete beta function (modified Lentz). */
function betaContinuedFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  d = 1 / (Math.abs(d) < tiny ? tiny : d);
  let result = d;
  for (let m = 1; m <= 300; m++) {
    const even = (m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m));
    d = 1 / (Math.abs(1 + even * d) < tiny ? tiny : 1 + even * d);
    c = Math.abs(1 + even / c) < tiny ? tiny : 1 + even / c;
    result *= d * c;
    const odd = (-(a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1));
    d = 1 / (Math.abs(1 + odd * d) < tiny ? tiny : 1 + odd * d);
    c = Math.abs(1 + odd / c) < tiny ? tiny : 1 + odd / c;
    const step = d * c;
    result *= step;
    if (Math.abs(step - 1) < 1e-15) break;
  }
  return result;
}

/** Regularised incomplete beta function I_x(a, b). */
function regularizedBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  return x < (a + 1) / (a + b + 2)
    ? (front * betaContinuedFraction(x, a, b)) / a
    : 1 - (front * betaContinuedFraction(1 - x, b, a)) / b;
}

/** P(T ≤ t) for Student's t with `degreesOfFreedom` degrees of freedom. */
export function studentTCdf(t: number, degreesOfFreedom: number): number {
  const tail = 0.5 * regularizedBeta(degreesOfFreedom / (degreesOfFreedom + t * t), degreesOfFreedom / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/**
 * The `probability` quantile of Student's t (inverse CDF), by bisection on the CDF to ~1e-12.
 * @throws InvalidOptionError for a probability outside (0, 1) or degrees of freedom that are not a positive number.
 */
export function studentTQuantile(probability: number, degreesOfFreedom: number): number {
  if (!(probability > 0 && probability < 1))
    throw new InvalidOptionError('studentTQuantile.probability', probability, 'Use a probability in (0, 1).');
  if (!(degreesOfFreedom > 0 && Number.isFinite(degreesOfFreedom))) {
    throw new InvalidOptionError(
      'studentTQuantile.degreesOfFreedom',
      degreesOfFreedom,
      'Use a positive number (n − 1 for n seeds).',
    );
  }
  if (probability === 0.5) return 0;
  if (probability < 0.5) return -studentTQuantile(1 - probability, degreesOfFreedom);
  let low = 0;
  let high = 1;
  while (studentTCdf(high, degreesOfFreedom) < probability) high *= 2;
  for (let iteration = 0; iteration < 200 && high - low > 1e-12 * Math.max(1, high); iteration++) {
    const middle = (low + high) / 2;
    if (studentTCdf(middle, degreesOfFreedom) < probability) low = middle;
    else high = middle;
  }
  return (low + high) / 2;
}

/**
 * The paired difference `a[i] − b[i]` (the same seed in both lists) with a two-sided Student-t interval:
 * mean ± t(1 − (1 − confidence)/2, n − 1) · sd / √n.
 * @throws InvalidOptionError when the lists differ in length, hold fewer than 2 values or a non-finite one, or the
 *   confidence is not in (0, 1).
 */
export function pairedDifference(a: readonly number[], b: readonly number[], confidence = 0.95): PairedDifference {
  if (a.length !== b.length) {
    throw new InvalidOptionError(
      'pairedDifference',
      `${a.length} vs ${b.length} values`,
      'Pass one value per seed in both lists, in the same seed order.',
    );
  }
  if (!(confidence > 0 && confidence < 1))
    throw new InvalidOptionError('pairedDifference.confidence', confidence, 'Use a level in (0, 1), e.g. 0.95.');
  checkValues('pairedDifference.a', a, 2);
  checkValues('pairedDifference.b', b, 2);
  const summary = summarize(a.map((value, index) => value - (b[index] as number)));
  const tQuantile = studentTQuantile(1 - (1 - confidence) / 2, summary.count - 1);
  const half = (tQuantile * summary.standardDeviation) / Math.sqrt(summary.count);
  const low = summary.mean - half;
  const high = summary.mean + half;
  return { ...summary, confidence, tQuantile, low, high, excludesZero: low > 0 || high < 0 };
}
