import * as tf from '@tensorflow/tfjs-core';
import { InvalidOptionError, formatShape } from '@vkd/core';
import { isImagenetWeight, type ReidModel } from '@vkd/models';

/** What {@link startFromImagenet} set. */
export interface ImagenetStartReport {
  /** Weights copied from the ImageNet backbone (VKD state_dict keys). */
  readonly loaded: readonly string[];
  /** Weights left as freshly initialised: the Re-ID head and the modules ImageNet files lack (BAM). */
  readonly fresh: readonly string[];
}

/**
 * Starts a model from an ImageNet backbone, as the VKD authors start every teacher (`--pretrained True`,
 * `model/net.py` `Backbone.get_net`): every backbone weight (convolutions, BatchNorm affine and moving statistics)
 * is copied from `imagenet`; the BNNeck head and BAM keep their fresh initialisation (`resnet_bam.py` loads
 * ImageNet weights into the non-BAM keys only). Nothing is assigned unless every weight is found with its shape.
 * @param imagenet a model holding ImageNet weights, e.g. loaded from a directory written by `vkd import-weights
 *   --format torchvision` (its head and attention modules are ignored); left unchanged.
 * @param source named in errors, e.g. `--imagenet-weights`.
 * @throws InvalidOptionError naming `source` for another backbone or baseWidth, or a weight missing or of another
 *   shape.
 */
export function startFromImagenet(model: ReidModel, imagenet: ReidModel, source = 'imagenet'): ImagenetStartReport {
  const { backbone, baseWidth } = model.config;
  if (imagenet.config.backbone !== backbone || imagenet.config.baseWidth !== baseWidth) {
    throw new InvalidOptionError(
      source,
      `${imagenet.config.backbone}, baseWidth ${imagenet.config.baseWidth}`,
      `The ImageNet model is a ${imagenet.config.backbone} (baseWidth ${imagenet.config.baseWidth}) but the model ` +
        `to train is a ${backbone} (baseWidth ${baseWidth}): import the ImageNet weights of ${backbone} ` +
        `(vkd import-weights --format torchvision --backbone ${backbone}).`,
    );
  }
  const specs = new Map(imagenet.weightSpecs().map((spec) => [spec.name, spec]));
  const loaded: string[] = [];
  const fresh: string[] = [];
  for (const spec of model.weightSpecs()) {
    if (!isImagenetWeight(spec.name, backbone)) {
      fresh.push(spec.name);
      continue;
    }
    const found = specs.get(spec.name);
    if (!found || !tf.util.arraysEqual(found.shape, spec.shape)) {
      throw new InvalidOptionError(
        source,
        spec.name,
        `The ImageNet model ${found ? `holds this weight with shape ${formatShape(found.shape)}, not` : 'lacks this weight of shape'} ` +
          `${formatShape(spec.shape)}: import the ImageNet weights of the same backbone and baseWidth.`,
      );
    }
    loaded.push(spec.name);
  }
  const weights = imagenet.getWeights();
  try {
    model.setWeights(Object.fromEntries(loaded.map((name) => [name, weights[name] as tf.Tensor])));
  } finally {
    tf.dispose(Object.values(weights));
  }
  return { loaded, fresh };
}
