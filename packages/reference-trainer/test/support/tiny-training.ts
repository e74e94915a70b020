/** The image and tracklet size of a tiny training run: one epoch of 2 identities × 1 tracklet on the cpu. */
export interface TinyTrainingSize {
  height: number;
  width: number;
  framesPerTracklet: number;
}

/**
 * The flags of a tiny `vkd train-teacher` (or `distill`) run: cpu, a ResNet-18 of base width 4, `size`'s images and
 * tracklets, one epoch of 2 identities × 1 tracklet. The caller adds the data, the output and anything else.
 */
export function tinyTraining(size: TinyTrainingSize): string[] {
  return [
    ...['--device', 'cpu', '--backbone', 'resnet18', '--base-width', '4'],
    ...['--height', String(size.height), '--width', String(size.width), '--epochs', '1'],
    ...['--identities-per-batch', '2', '--instances-per-identity', '1'],
    ...['--frames-per-tracklet', String(size.framesPerTracklet)],
  ];
}
