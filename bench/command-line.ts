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

export function parseBenchArgs<O extends ParseArgsOptionsConfig>(usage: string, options: O, argv: readonly string[], allowPositionals = false): Parsed<O> {
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
