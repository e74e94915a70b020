import { UnknownKeyError } from '@vkd/core';
import type { AttentionName } from '../model-options';
import { backboneNames, getBackbone } from './backbone-registry';

/**
 * The backbone and attention of one of the VKD authors' backbone names (`model/net.py` `Backbone`): a registered
 * name as is (`resnet50` → resnet50, none), or a registered name followed by an attention it supports
 * (`resnet50bam` → resnet50 + bam), as the authors name their attention nets.
 * @throws UnknownKeyError listing the accepted names.
 */
export function resolveAuthorsBackbone(name: string): { backbone: string; attention: AttentionName } {
  const names = backboneNames();
  if (names.includes(name)) return { backbone: name, attention: 'none' };
  for (const backbone of names) {
    const suffix = name.startsWith(backbone) ? name.slice(backbone.length) : undefined;
    const attention = getBackbone(backbone).attention.find((option) => option !== 'none' && option === suffix);
    if (attention) return { backbone, attention };
  }
  const accepted = names.flatMap((backbone) =>
    getBackbone(backbone).attention.map((option) => (option === 'none' ? backbone : `${backbone}${option}`)),
  );
  throw new UnknownKeyError('backbone', name, accepted);
}
