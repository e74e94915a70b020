import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { DuplicateJsonKeyError, FileFormatError, InvalidOptionError, parseStrictJson } from '@vkd/core';
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
    throw new InvalidOptionError('--config', path, `Cannot read the file (${(error as Error).message}).`, {
      cause: error,
    });
  }
  const parsed = extname(path).toLowerCase() === '.json' ? parseJson(path, text) : parseYaml(path, text);
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new FileFormatError(path, 'The top level must be a mapping of option names to values, e.g. `epochs: 30`.', {
      line: 1,
    });
  }
  return parsed as Record<string, unknown>;
}

/** What to do about the parse errors of `yaml` users meet most, by error code. */
const YAML_ADVICE: Readonly<Record<string, string>> = {
  BLOCK_AS_IMPLICIT_KEY: 'Write one `key: value` per line, and quote a value that contains ": " (e.g. `name: "a: b"`).',
  MULTILINE_IMPLICIT_KEY: 'Write one `key: value` per line, starting in the first column.',
  DUPLICATE_KEY: 'Each option may appear once: remove or merge the repeated key.',
  TAB_AS_INDENT: 'Indent with spaces, not tabs.',
  MISSING_CHAR: 'A quote or bracket opened earlier is never closed: close it.',
  BAD_INDENT: 'Close the bracket (e.g. `milestones: [100, 200]`) or fix the indentation.',
};

const CONFIG_ADVICE = 'The file must be a mapping of option names to values, one per line, e.g. `epochs: 30`.';

function parseJson(path: string, text: string): unknown {
  try {
    return parseStrictJson(text);
  } catch (error) {
    if (error instanceof DuplicateJsonKeyError) {
      const { line } = error.duplicate;
      throw new FileFormatError(path, `Invalid JSON: ${error.message}.`, { line, cause: error });
    }
    // Node 20's JSON.parse messages carry no position; YAML's JSON-schema parser locates the same mistake.
    const located = parseDocument(text, { schema: 'json' }).errors[0]?.linePos?.[0]?.line;
    const position = /position (\d+)/.exec((error as Error).message);
    const line = located ?? (position ? text.slice(0, Number(position[1])).split('\n').length : undefined);
    // Node's message may quote the source across lines ('Unexpected token ..."device": cpu\n}" is not valid JSON').
    const summary = (error as Error).message.replace(/\s+/g, ' ').replace(/[\s:.]+$/, '');
    const reason = `Invalid JSON${line === undefined ? '' : ` at line ${line}`}: ${summary}${lineExcerpt(text, line)}. Fix the syntax (keys in double quotes, no trailing commas or comments), or write the file as YAML (.yaml).`;
    throw new FileFormatError(path, reason, line === undefined ? { cause: error } : { line, cause: error });
  }
}

/**
 * `yaml`'s messages are multi-line: "Map keys must be unique at line 2, column 1:" then a source excerpt. The first
 * line alone ends with a dangling colon, so the message is rebuilt: position, what is wrong, the offending source line
 * and what to do.
 */
function parseYaml(path: string, text: string): unknown {
  const document = parseDocument(text);
  const first = document.errors[0];
  if (first) {
    const position = first.linePos?.[0];
    const summary = (first.message.split('\n')[0] ?? '')
      .replace(/\s+at line \d+, column \d+\s*:?\s*$/, '')
      .replace(/[\s:.]+$/, '');
    const where = position ? ` at line ${position.line}, column ${position.col}` : '';
    const reason = `Invalid YAML${where}: ${summary}${lineExcerpt(text, position?.line)}. ${YAML_ADVICE[first.code] ?? CONFIG_ADVICE}`;
    throw new FileFormatError(
      path,
      reason,
      position === undefined ? { cause: first } : { line: position.line, cause: first },
    );
  }
  // Aliases (`*name`) expand to copies: a few lines can stand for billions of values ("billion laughs"). An options
  // file never needs them, so any alias is refused with its line instead of being expanded.
  const unquoted = text.replace(/#.*$/gm, '').replace(/"(?:[^"\\\n]|\\.)*"|'[^'\n]*'/g, '""'); // same lines
  const alias = /(^|[\s,[{:-])\*[^\s,\]}]+/m.exec(unquoted);
  if (alias) {
    const line = unquoted.slice(0, alias.index + (alias[1] as string).length).split('\n').length;
    throw new FileFormatError(
      path,
      `YAML aliases (\`*name\`) are not accepted in an options file${lineExcerpt(text, line)}. Write each value out.`,
      { line },
    );
  }
  try {
    return document.toJS({ maxAliasCount: 0 });
  } catch (error) {
    throw new FileFormatError(
      path,
      `Cannot read the YAML: ${(error as Error).message}. Write each value out (no aliases).`,
      { cause: error },
    );
  }
}

/** ` (the line reads \`…\`)` for a non-blank 1-based line (shortened past 80 characters), else ''. */
function lineExcerpt(text: string, line: number | undefined): string {
  const source = line === undefined ? undefined : text.split(/\r?\n/)[line - 1]?.trim();
  if (!source) return '';
  return ` (the line reads \`${source.length > 80 ? `${source.slice(0, 77)}…` : source}\`)`;
}
