import type sharpType from 'sharp';

let cached: Promise<typeof sharpType> | undefined;

/**
 * sharp, imported on first use so that `@vkd/datasets` (the pure-data entry) never loads the native module
 * unless a function that decodes or writes images runs.
 */
export function loadSharp(): Promise<typeof sharpType> {
  cached ??= import('sharp').then(
    (module) => (module as unknown as { default: typeof sharpType }).default ?? (module as unknown as typeof sharpType),
  );
  return cached;
}
