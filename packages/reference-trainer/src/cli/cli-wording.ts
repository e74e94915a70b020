import type { OptionSpec } from '../options/option-spec';
import { flagName } from '../options/option-spec';

/**
 * The CLI's wording of a library message. Libraries advise their own option names (`Pass allowMissing: true …`); a
 * CLI user passes flags, so each camelCase option key of the command (`allowMissing`) is named as its flag: `key: true`
 * → `--allow-missing`, `key: false` → `--no-allow-missing`, `key: VALUE` → `--key VALUE`, the bare key → its flag.
 * Only whole words that are option keys of this command, not after `.` (`readImage.height` stays an API path).
 * The libraries' messages stay API-worded; this is the one place that maps them.
 */
export function cliWording(message: string, options: readonly OptionSpec[]): string {
  const keys = options.map((spec) => spec.key).filter((key) => /[A-Z]/.test(key));
  if (keys.length === 0) return message;
  const pattern = new RegExp(`(?<![\\w.\\-])(${keys.join('|')})\\b(?::\\s*(true|false|-?\\d[\\w.]*))?`, 'g');
  return message.replace(pattern, (_match, key: string, value: string | undefined) => {
    if (value === 'true' || value === undefined) return flagName(key);
    if (value === 'false') return `--no-${flagName(key).slice(2)}`;
    return `${flagName(key)} ${value}`;
  });
}
