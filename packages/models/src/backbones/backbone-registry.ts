import { createRegistry, InvalidOptionError } from '@vkd/core';
import type { AttentionName } from '../model-options';
import type { Backbone } from './backbone';
import { RESNET_BACKBONES } from './resnet/resnet-backbones';

const registry = createRegistry<Backbone>(
  'backbone',
  Object.fromEntries(RESNET_BACKBONES.map((backbone) => [backbone.name, backbone])),
);

/** The backbone registered under `name`. @throws UnknownKeyError listing the registered names. */
export function getBackbone(name: string): Backbone {
  return registry.get(name);
}

/**
 * Adds a backbone: `createReidModel({ backbone: backbone.name, … })`, saved models, weight import and the `vkd` CLI's
 * `--backbone` accept it from then on.
 * @throws DuplicateKeyError when the name is taken; InvalidOptionError when `attention` lacks `'none'`.
 */
export function registerBackbone(backbone: Backbone): void {
  if (!backbone.attention.includes('none')) {
    throw new InvalidOptionError(`registerBackbone("${backbone.name}").attention`, backbone.attention, "Include 'none'.");
  }
  registry.register(backbone.name, backbone);
}

/** Registered backbone names (built-ins first). */
export function backboneNames(): string[] {
  return registry.keys();
}

/** Names of the backbones on which `attention` is defined (for error messages and help texts). */
export function backbonesWithAttention(attention: AttentionName): string[] {
  return registry.keys().filter((name) => registry.get(name).attention.includes(attention));
}

/**
 * Checks that `attention` is defined on `backbone` (the BAM rule, stated once: each backbone lists its attention).
 * @param option how the error names the option, e.g. `attention` or `--attention`.
 * @throws InvalidOptionError naming the backbones that support it; UnknownKeyError for an unknown backbone.
 */
export function checkBackboneAttention(backbone: string, attention: AttentionName, option = 'attention'): void {
  if (getBackbone(backbone).attention.includes(attention)) return;
  const supported = backbonesWithAttention(attention);
  throw new InvalidOptionError(
    option,
    attention,
    `${attention === 'bam' ? 'BAM' : `"${attention}"`} is defined for ${supported.join(', ') || 'no backbone'} ` +
      `(as in VKD), not ${backbone}.`,
  );
}
