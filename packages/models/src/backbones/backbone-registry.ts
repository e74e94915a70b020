import { createRegistry, DuplicateKeyError, InvalidOptionError, UnknownKeyError } from '@vkd/core';
import type { AttentionName } from '../model-options';
import type { Backbone } from './backbone';
import { DENSENET121_BACKBONE } from './densenet/densenet-backbone';
import { MOBILENET_BACKBONE } from './mobilenet/mobilenet-backbone';
import { RESNET_BACKBONES } from './resnet/resnet-backbones';

/** Every backbone of the authors' `model/net.py` (`Backbone.BACKBONES`). */
const BUILT_IN_BACKBONES: readonly Backbone[] = [...RESNET_BACKBONES, DENSENET121_BACKBONE, MOBILENET_BACKBONE];

const registry = createRegistry<Backbone>(
  'backbone',
  Object.fromEntries(BUILT_IN_BACKBONES.map((backbone) => [backbone.name, backbone])),
);

/** Alias → the backbone it names and the attention it implies (`Backbone.aliases`, e.g. `resnet50bam`). */
function aliasTable(): Map<string, { backbone: string; attention: AttentionName }> {
  const table = new Map<string, { backbone: string; attention: AttentionName }>();
  for (const name of registry.keys()) {
    for (const [alias, attention] of Object.entries(registry.get(name).aliases ?? {})) {
      table.set(alias, { backbone: name, attention });
    }
  }
  return table;
}

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
    throw new InvalidOptionError(
      `registerBackbone("${backbone.name}").attention`,
      backbone.attention,
      "Include 'none'.",
    );
  }
  const taken = new Set([...registry.keys(), ...aliasTable().keys()]);
  for (const name of [backbone.name, ...Object.keys(backbone.aliases ?? {})]) {
    if (taken.has(name)) throw new DuplicateKeyError('backbone', name);
  }
  for (const [alias, attention] of Object.entries(backbone.aliases ?? {})) {
    if (!backbone.attention.includes(attention)) {
      throw new InvalidOptionError(
        `registerBackbone("${backbone.name}").aliases.${alias}`,
        attention,
        `Use one of its attention values: ${backbone.attention.join(', ')}.`,
      );
    }
  }
  registry.register(backbone.name, backbone);
}

/** Names `--backbone` / `createReidModel` accept: the registered backbones, then their aliases (`resnet50bam`). */
export function backboneChoices(): string[] {
  return [...registry.keys(), ...aliasTable().keys()];
}

/**
 * Resolves an alias to its backbone and attention (`resnet50bam` → `resnet50` + `'bam'`); a backbone's own name
 * comes back with the given attention (default `'none'`).
 * @param option how errors name the attention option (`attention`, `--attention`).
 * @throws InvalidOptionError when an alias is combined with another attention (`resnet50bam` with `'none'`);
 *   UnknownKeyError listing the choices for an unknown name.
 */
export function resolveBackboneName(
  name: string,
  attention?: AttentionName,
  option = 'attention',
): { backbone: string; attention: AttentionName } {
  const alias = aliasTable().get(name);
  if (!alias) {
    if (!registry.has(name)) throw new UnknownKeyError('backbone', name, backboneChoices());
    return { backbone: name, attention: attention ?? 'none' };
  }
  if (attention !== undefined && attention !== alias.attention) {
    throw new InvalidOptionError(
      option,
      attention,
      `"${name}" is ${alias.backbone} with attention "${alias.attention}"; use backbone "${alias.backbone}" for attention ` +
        `"${attention}".`,
    );
  }
  return alias;
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
