/**
 * The benchmarks' command line: node's parseArgs, strict, with the same manners everywhere.
 * `--help` (or `-h`) prints the usage to stdout and exits 0; a command line parseArgs rejects
 * (unknown flag, missing value, stray argument) prints one line saying what is wrong and the usage
 * to stderr and exits 2. Both happen while parsing, before a benchmark has built anything.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

type ParseArgsOptionsConfig = NonNullable<ParseArgsConfig['options']>;

export type BenchFlags<O extends ParseArgsOptionsConfig> = ReturnType<typeof parseArgs<{ options: O }>>['values'];

interface Parsed<O extends ParseArgsOptionsConfig> {
  readonly values: BenchFlags<O>;
  readonly positionals: string[];
}

const wantsHelp = (argv: readonly string[]) => {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).some((a) => a === '--help' || a === '-h');
};

/** parseArgs' own message, without its advice on `--` (a benchmark takes no dashed positionals). */
const firstSentence = (message: string) => message.split(/\.\s/)[0] ?? message;

/** How a program's usage shows its options; the defaults come from the options themselves. */
export interface UsageSpec {
  /** What runs the program, before its flags, e.g. `node dist/bench/plan/plan.js`. */
  readonly command: string;
  /** A placeholder for an option's value where the default alone says too little (or there is none; else VALUE). */
  readonly values?: Readonly<Record<string, string>>;
  /** Options a parent process passes, not for people: left out. */
  readonly internal?: readonly string[];
  /** Options that must be given: shown without brackets. */
  readonly required?: readonly string[];
  /** After the flags: positionals and remarks. */
  readonly trailer?: string;
}

const USAGE_WIDTH = 110;

/** `usage: COMMAND [--flag DEFAULT] [--switch] [--list VALUE]...`, wrapped, continuation lines indented. */
export function usageText(spec: UsageSpec, options: ParseArgsOptionsConfig): string {
  const words: string[] = [];
  for (const [name, option] of Object.entries(options)) {
    if (spec.internal?.includes(name)) continue;
    const shown = spec.values?.[name] ?? (option.default !== undefined ? String(option.default) : 'VALUE');
    // a value that starts with a dash must be joined with `=`, or parseArgs takes it for a flag
    const value = option.type === 'boolean' ? '' : `${shown.startsWith('-') ? '=' : ' '}${shown}`;
    const flag = `--${name}${value}`;
    words.push(spec.required?.includes(name) ? flag : `[${flag}]${option.multiple ? '...' : ''}`);
  }
  if (spec.trailer) words.push(spec.trailer);
  const lines = [`usage: ${spec.command}`];
  for (const word of words) {
    if (lines.at(-1)!.length + 1 + word.length > USAGE_WIDTH) lines.push(`  ${word}`);
    else lines[lines.length - 1] += ` ${word}`;
  }
  return lines.join('\n');
}

export function parseBenchArgs<O extends ParseArgsOptionsConfig>(spec: UsageSpec, options: O, argv: readonly string[], allowPositionals = false): Parsed<O> {
  const usage = usageText(spec, options);
  if (wantsHelp(argv)) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  try {
    const { values, positionals } = parseArgs({ args: [...argv], options, strict: true, allowPositionals });
    return { values: values as BenchFlags<O>, positionals };
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code !== 'string' || !code.startsWith('ERR_PARSE_ARGS_')) throw err;
    process.stderr.write(`${firstSentence((err as Error).message)}\n${usage}\n`);
    process.exit(2);
  }
}
