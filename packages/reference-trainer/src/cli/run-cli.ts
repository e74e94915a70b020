import { basename, isAbsolute, resolve } from 'node:path';
import { InvalidOptionError, UnknownKeyError, VkdError } from '@vkd/core';
import { CorruptImageError } from '@vkd/datasets';
import packageJson from '../../package.json';
import { presetNames, presetValues } from '../config/presets';
import { loadConfigFile } from '../options/load-config-file';
import { keyFromFlag, type OptionValues } from '../options/option-spec';
import { parseArguments } from '../options/parse-arguments';
import { resolveOptions } from '../options/resolve-options';
import { cliWording } from './cli-wording';
import { writeLine, type CommandDefinition, type CommandIo } from './command';
import { formatCommandHelp, formatGeneralHelp } from './format-help';

/** Exit code for a usage error (bad flag, bad config value). */
export const EXIT_USAGE = 2;
/** Exit code for a failure while running. */
export const EXIT_FAILURE = 1;

/** The `vkd` package version. */
export const VERSION: string = packageJson.version;

/**
 * Parses the options of `command` from argv, a config file and a preset, then validates them.
 * @returns the resolved options and positionals, or `help: true` when `--help` was given.
 * @throws UnknownKeyError / InvalidOptionError / FileFormatError naming the option, key or file.
 */
export async function resolveCommandInput(
  command: CommandDefinition,
  argv: readonly string[],
  cwd: string,
): Promise<{ help: boolean; options: OptionValues; positionals: readonly string[]; explicit: ReadonlySet<string> }> {
  const parsed = parseArguments(argv, command.options);
  if (parsed.help) return { help: true, options: {}, positionals: [], explicit: new Set() };
  const configPath = parsed.values.config as string | undefined;
  const file = configPath
    ? { path: resolve(cwd, configPath), values: await loadConfigFile(resolve(cwd, configPath)) }
    : undefined;
  const presetName = (parsed.values.preset ?? file?.values.preset) as string | undefined;
  if (presetName !== undefined && !command.stage)
    throw new InvalidOptionError('--preset', presetName, `vkd ${command.name} does not take a preset.`);
  const presetSource = parsed.values.preset === undefined && file ? `preset in ${basename(file.path)}` : 'preset';
  if (presetName !== undefined && command.stage && !presetNames().includes(String(presetName)))
    throw new UnknownKeyError(presetSource, String(presetName), presetNames());
  const preset =
    presetName !== undefined && command.stage ? presetValues(String(presetName), command.stage) : undefined;
  const options = resolveOptions(command.options, {
    flags: parsed.values,
    ...(file ? { file } : {}),
    ...(preset ? { preset } : {}),
  });
  for (const spec of command.options) {
    const value = options[spec.key];
    if (spec.kind === 'path' && typeof value === 'string' && !isAbsolute(value) && !spec.literals?.includes(value)) {
      options[spec.key] = resolve(cwd, value);
    }
  }
  const limits = command.positionals ?? { min: 0, max: 0, names: '' };
  if (parsed.positionals.length < limits.min || parsed.positionals.length > limits.max) {
    throw new InvalidOptionError(
      'arguments',
      parsed.positionals,
      limits.max === 0
        ? `vkd ${command.name} takes no positional arguments (options start with --).`
        : `vkd ${command.name} expects ${limits.names}.`,
    );
  }
  const fileKeys = Object.keys(file?.values ?? {}).map((key) => (key.includes('-') ? keyFromFlag(key) : key));
  const explicit = new Set([
    ...Object.keys(parsed.values).filter((key) => parsed.values[key] !== undefined),
    ...fileKeys,
  ]);
  return { help: false, options, positionals: parsed.positionals, explicit };
}

/**
 * Runs `vkd` with `argv` (without the node and script paths).
 * @returns the exit code: 0 success, 1 failure while running, 2 usage error. Errors are printed to `io.stderr`.
 */
export async function runCli(
  argv: readonly string[],
  io: CommandIo,
  commands: readonly CommandDefinition[],
): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h') {
    io.stdout.write(formatGeneralHelp(commands, VERSION));
    return name === undefined ? EXIT_USAGE : 0;
  }
  if (name === 'help') return printHelpTopic(rest, io, commands);
  if (name === '--version' || name === '-v') {
    writeLine(io.stdout, VERSION);
    return 0;
  }
  const command = commands.find((candidate) => candidate.name === name);
  if (!command) {
    writeLine(
      io.stderr,
      `vkd: ${
        new UnknownKeyError(
          'command',
          name,
          commands.map((candidate) => candidate.name),
        ).message
      }`,
    );
    writeLine(io.stderr, 'Run `vkd --help` for the list of commands.');
    return EXIT_USAGE;
  }
  let input: Awaited<ReturnType<typeof resolveCommandInput>>;
  try {
    input = await resolveCommandInput(command, rest, io.cwd);
  } catch (error) {
    if (!(error instanceof VkdError)) throw error;
    writeLine(io.stderr, `vkd ${command.name}: ${error.message}`);
    writeLine(io.stderr, `Run \`vkd ${command.name} --help\` for the accepted options.`);
    return EXIT_USAGE;
  }
  if (input.help) {
    io.stdout.write(formatCommandHelp(command));
    return 0;
  }
  try {
    return await command.run({ options: input.options, positionals: input.positionals, io, explicit: input.explicit });
  } catch (error) {
    if (error instanceof InvalidOptionError || error instanceof UnknownKeyError) {
      writeLine(io.stderr, `vkd ${command.name}: ${error.message}`);
      return EXIT_USAGE;
    }
    if (CorruptImageError.isInstance(error)) {
      writeLine(io.stderr, `vkd ${command.name}: ${corruptImageMessage(error, command)}`);
      return EXIT_FAILURE;
    }
    if (error instanceof VkdError) {
      writeLine(io.stderr, `vkd ${command.name}: ${error.name}: ${cliWording(error.message, command.options)}`);
      return EXIT_FAILURE;
    }
    const systemMessage = fileSystemErrorMessage(error);
    if (systemMessage !== undefined) {
      writeLine(io.stderr, `vkd ${command.name}: ${systemMessage}`);
      return EXIT_FAILURE;
    }
    writeLine(
      io.stderr,
      `vkd ${command.name}: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    return EXIT_FAILURE;
  }
}

/**
 * `vkd help [command]`: the general help without a topic, the command's help for a known one.
 * @returns 0, or EXIT_USAGE (message on stderr listing the commands) for an unknown topic or more than one.
 */
function printHelpTopic(topics: readonly string[], io: CommandIo, commands: readonly CommandDefinition[]): number {
  const [topic] = topics;
  if (topic === undefined || topic === '--help' || topic === '-h') {
    io.stdout.write(formatGeneralHelp(commands, VERSION));
    return 0;
  }
  const names = commands.map((command) => command.name);
  const command = commands.find((candidate) => candidate.name === topic);
  if (!command || topics.length > 1) {
    const error = command
      ? new InvalidOptionError('arguments', topics, 'vkd help takes one command name, e.g. `vkd help distill`.')
      : new UnknownKeyError('command', topic, names);
    writeLine(io.stderr, `vkd help: ${error.message}`);
    writeLine(io.stderr, 'Run `vkd --help` for the list of commands, or `vkd help <command>` for one of them.');
    return EXIT_USAGE;
  }
  io.stdout.write(formatCommandHelp(command));
  return 0;
}

/**
 * The CLI's wording of a frame that cannot be decoded: the library's message advises `validateFrames`/`onBadFrame`
 * (loader options a CLI user cannot pass); the CLI names its own flag when the command has it.
 */
export function corruptImageMessage(error: CorruptImageError, command: CommandDefinition): string {
  const skip = command.options.some((spec) => spec.key === 'skipBadFrames')
    ? ', or rerun with --skip-bad-frames to leave out the frames that cannot be decoded (every frame is then decoded once when the dataset is loaded)'
    : '';
  return `${error.name}: ${error.file}: cannot decode image (${error.decoderMessage}). The file is corrupt or truncated: replace it${skip}.`;
}

/** Node system-error codes that describe the user's files or disk, not a bug in vkd. */
const FILE_SYSTEM_CODES: Readonly<Record<string, string>> = {
  ENOENT: 'a file or directory does not exist',
  ENOTDIR: 'a path component is a file, not a directory',
  EISDIR: 'a directory is where a file was expected',
  EEXIST: 'a file is in the way',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EMFILE: 'too many open files',
};

/**
 * A one-line message for a Node file-system error (`ENOTDIR: not a directory, mkdir '/etc/passwd/x'`), so that a bad
 * `--out` or a full disk is not reported as an internal error with a stack trace.
 * @returns undefined for any other error.
 */
export function fileSystemErrorMessage(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as NodeJS.ErrnoException).code;
  if (typeof code !== 'string' || !(code in FILE_SYSTEM_CODES)) return undefined;
  return `${error.message} (${FILE_SYSTEM_CODES[code]}). Check the paths given to --out, --root, --model, --run and --config.`;
}
