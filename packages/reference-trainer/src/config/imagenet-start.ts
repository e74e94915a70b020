import { getBackbone, resolveBackboneName, validateReidModelOptions } from '@vkd/models';
import { MissingOptionError } from '../options/missing-option-error';
import type { OptionValues } from '../options/option-spec';
import { presetRequiresImagenetWeights, presetValues } from './presets';

/** `--imagenet-weights none`: train from scratch (teacher) / re-initialise randomly (student), asked for explicitly. */
export const FROM_SCRATCH = 'none';

/**
 * torchvision's ImageNet files (IMAGENET1K_V1, the weights the authors' torchvision 0.4.2 loads), by backbone, as
 * `https://download.pytorch.org/models/<file>` serves them; quoted in the advice of {@link resolveImagenetStart}.
 */
const TORCHVISION_FILES: Readonly<Record<string, string>> = {
  resnet18: 'resnet18-f37072fd.pth',
  resnet34: 'resnet34-b627a593.pth',
  resnet50: 'resnet50-0676ba61.pth',
  resnet101: 'resnet101-63fe2227.pth',
  densenet121: 'densenet121-a639ec97.pth',
  mobilenet: 'mobilenet_v2-b0353104.pth',
};

/**
 * How a stage's backbone starts: from an ImageNet model directory, or from scratch (and whether that was asked for);
 * `unused`: the stage needs no ImageNet weights (a student that keeps the teacher's last stage).
 */
export type ImagenetStart =
  | { readonly kind: 'imagenet'; readonly directory: string }
  | { readonly kind: 'scratch'; readonly explicit: boolean }
  | { readonly kind: 'unused' };

/** The `vkd import-weights` line that makes the ImageNet model directory of a backbone. */
export function imagenetImportCommand(backbone: string): string {
  const file = TORCHVISION_FILES[backbone] ?? `${backbone}-imagenet.pth`;
  return `vkd import-weights --source ${file} --format torchvision --backbone ${backbone} --out models/${backbone}-imagenet`;
}

/**
 * Reads `--imagenet-weights` for a stage. Presets that reproduce an authors' run require it: the authors start
 * every teacher from ImageNet and reload the student's last stage from ImageNet (`vkd-method.md` §1.1, §4.1).
 * @param what what the weights are for, completing "the authors …", e.g. `start the teacher from ImageNet`.
 * @throws MissingOptionError (`--imagenet-weights`, exit 2) under such a preset without it, saying how to get them.
 */
export function resolveImagenetStart(
  options: OptionValues,
  what: string,
  stage: 'teacher' | 'distill' = 'teacher',
): ImagenetStart {
  const value = options.imagenetWeights;
  if (value === FROM_SCRATCH) return { kind: 'scratch', explicit: true };
  if (typeof value === 'string') return { kind: 'imagenet', directory: value };
  if (!presetRequiresImagenetWeights(options.preset)) return { kind: 'scratch', explicit: false };
  // distill has no --backbone (the teacher's is used): name the preset's.
  const backbone = String(options.backbone ?? presetValues(String(options.preset), 'evaluate').backbone);
  // The authors' MobileNet student resets only its head (`reinit_layers`): nothing to reload from ImageNet.
  if (stage === 'distill' && !studentReloadsStage(backbone)) return { kind: 'unused' };
  const file = TORCHVISION_FILES[backbone];
  throw new MissingOptionError(
    '--imagenet-weights',
    `--imagenet-weights is required: --preset ${String(options.preset)} reproduces an authors' run, and the authors ${what}. Make the ImageNet model ` +
      `directory once${file ? ` from torchvision's ${file} (https://download.pytorch.org/models/${file})` : ''}: ` +
      `${imagenetImportCommand(backbone)}, then pass --imagenet-weights models/${backbone}-imagenet. ` +
      `To train without ImageNet weights anyway (far below the paper's numbers), pass --imagenet-weights ${FROM_SCRATCH}.`,
  );
}

/** Whether the VKD student of this backbone reloads a stage (ResNet layer4, DenseNet denseblock4; not MobileNet). */
function studentReloadsStage(name: string): boolean {
  const { backbone } = resolveBackboneName(name);
  const config = validateReidModelOptions({ backbone, numIdentities: 1 });
  return getBackbone(config.backbone).build(config).studentReinitPrefixes.length > 0;
}
