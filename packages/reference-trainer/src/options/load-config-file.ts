import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { FileFormatError, InvalidOptionError } from '@vkd/core';
import { parseDocument } from 'yaml';

/**
 * Reads a run configuration: a JSON (`.json`) or YAML (`.yaml`, `.yml`, anything else) file whose top level is a
 * mapping of option keys (camelCase, `learningRate`, or kebab-case, `learning-rate`) to values.
 * @returns the raw mapping; values are validated by `resolveOptions` against the command's options.
 * @throws InvalidOptionError (`--config`) when the file cannot be read; FileFormatError with the 1-based line when
 *   it does not parse or is not a mapping.
 */
export async function loadConfigFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new InvalidOptionError('--config', path, `Cannot read the file (${(error as Error).message}).`, { cause: error });
  }
  const parsed = extname(path).toLowerCase() === '.json' ? parseJson(path, text) : parseYaml(path, text);
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new FileFormatError(path, 'The top level must be a mapping of option names to values, e.g. `epochs: 30`.', { line: 1 });
  }
  return parsed as Record<string, unknown>;
}

function parseJson(path: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    // Node 20's JSON.parse messages carry no position; YAML's JSON-schema parser locates the same mistake.
    const located = parseDocument(text, { schema: 'json' }).errors[0]?.linePos?.[0]?.line;
    const position = /position (\d+)/.exec((error as Error).message);
    const line = located ?? (position ? text.slice(0, Number(position[1])).split('\n').length : undefined);
    throw new FileFormatError(path, `Invalid JSON: ${(error as Error).message}`, line === undefined ? { cause: error } : { line, cause: error });
  }
}

function parseYaml(path: string, text: string): unknown {
  const document = parseDocument(text);
  const first = document.errors[0];
  if (first) {
    const line = first.linePos?.[0]?.line;
    throw new FileFormatError(path, `Invalid YAML: ${first.message.split('\n')[0]}`, line === undefined ? {} : { line });
  }
  return document.toJS();
}
