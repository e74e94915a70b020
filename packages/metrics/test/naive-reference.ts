/**
 * Deliberately naive reference evaluator: a full stable sort of each query's row, junk removal, then the
 * formulas exactly as torchreid (AP, CMC), fast-reid (INP) and the MATLAB compute_AP loop (trapezoid) write them.
 */
export interface NaiveResult {
  cmc: number[];
  mAP: number;
  mAPTrapezoid: number;
  mINP: number;
  validQueries: number;
  skippedQueries: number[];
}

export function naiveEvaluate(input: {
  distances: ArrayLike<number>;
  queryIdentities: ArrayLike<number>;
  galleryIdentities: ArrayLike<number>;
  queryCameras: ArrayLike<number>;
  galleryCameras: ArrayLike<number>;
  maxRank: number;
  junkIdentities: number[];
  excludeSameCamera: boolean;
  junkGallery?: (q: number) => ArrayLike<number> | undefined;
}): NaiveResult {
  const Q = input.queryIdentities.length;
  const G = input.galleryIdentities.length;
  const cmcSum = new Array<number>(input.maxRank).fill(0);
  let apSum = 0;
  let trapSum = 0;
  let inpSum = 0;
  let valid = 0;
  const skipped: number[] = [];
  for (let q = 0; q < Q; q++) {
    const order = Array.from({ length: G }, (_, j) => j).sort(
      (a, b) => (input.distances[q * G + a] as number) - (input.distances[q * G + b] as number) || a - b,
    );
    const extra = new Set(Array.from(input.junkGallery?.(q) ?? []));
    const matches: number[] = [];
    for (const j of order) {
      const sameId = input.galleryIdentities[j] === input.queryIdentities[q];
      const sameCam = input.galleryCameras[j] === input.queryCameras[q];
      if (input.junkIdentities.includes(input.galleryIdentities[j] as number)) continue;
      if (input.excludeSameCamera && sameId && sameCam) continue;
      if (extra.has(j)) continue;
      matches.push(sameId ? 1 : 0);
    }
    const numGood = matches.reduce((s, m) => s + m, 0);
    if (numGood === 0) {
      skipped.push(q);
      continue;
    }
    valid++;
    // CMC (torchreid): cumsum clipped to 1, padded with its last value.
    let hits = 0;
    for (let k = 0; k < input.maxRank; k++) {
      if (k < matches.length) hits += matches[k] as number;
      cmcSum[k] = (cmcSum[k] as number) + (hits > 0 ? 1 : 0);
    }
    // AP (torchreid): sum_k precision@k * rel_k / numGood.
    let cumulative = 0;
    let ap = 0;
    let lastHit = 0;
    matches.forEach((m, k) => {
      cumulative += m;
      if (m) {
        ap += cumulative / (k + 1);
        lastHit = k;
      }
    });
    apSum += ap / numGood;
    inpSum += numGood / (lastHit + 1);
    // Trapezoid AP: the MATLAB compute_AP loop, line by line.
    let oldRecall = 0;
    let oldPrecision = 1;
    let trap = 0;
    let intersect = 0;
    for (let j = 0; j < matches.length; j++) {
      if (matches[j]) intersect++;
      const recall = intersect / numGood;
      const precision = intersect / (j + 1);
      trap += (recall - oldRecall) * ((oldPrecision + precision) / 2);
      oldRecall = recall;
      oldPrecision = precision;
      if (intersect === numGood) break;
    }
    trapSum += trap;
  }
  return {
    cmc: cmcSum.map((c) => c / valid),
    mAP: apSum / valid,
    mAPTrapezoid: trapSum / valid,
    mINP: inpSum / valid,
    validQueries: valid,
    skippedQueries: skipped,
  };
}
