import { describe, expect, it } from 'vitest';
import { cliWording } from '../src/cli/cli-wording';
import type { OptionSpec } from '../src/options/option-spec';

const options = [
  { key: 'allowMissing', kind: 'boolean', default: false, description: '' },
  { key: 'numIdentities', kind: 'integer', default: 1, description: '' },
  { key: 'height', kind: 'integer', default: 256, description: '' },
] as unknown as OptionSpec[];

describe('cliWording', () => {
  it('names the flags of the API options a library message advises', () => {
    expect(cliWording('Pass allowMissing: true to keep their current values.', options)).toBe(
      'Pass --allow-missing to keep their current values.',
    );
    expect(cliWording('set allowMissing: false', options)).toBe('set --no-allow-missing');
    expect(cliWording('create the model with numIdentities: 751 (or import with allowMissing after …)', options)).toBe(
      'create the model with --num-identities 751 (or import with --allow-missing after …)',
    );
  });

  it('leaves API paths, keys the command does not have, and plain words alone', () => {
    const message = 'Invalid readImage.numIdentities: 3; pass allowUnexpected: true; height: 3; allowMissingX';
    expect(cliWording(message, options)).toBe(message);
  });
});
