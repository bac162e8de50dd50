import { Option } from 'commander';
import { Document, parse, visit } from 'yaml';

/** `-o, --output` with exactly these formats; a wrong one is a usage error (exit 2). */
export function outputOption<const F extends string>(formats: readonly F[], fallback: F): Option {
  return new Option('-o, --output <format>', 'output format').choices(formats).default(fallback);
}

/** Writes a value as JSON or YAML on stdout. */
export function writeStructured(format: 'json' | 'yaml', value: unknown): void {
  process.stdout.write(format === 'json' ? `${JSON.stringify(value, null, 2)}\n` : toYaml(value));
}

/**
 * YAML that reads back with the same types in YAML 1.1 readers (go-yaml v2 behind kubectl,
 * PyYAML) as in 1.2 ones: every string that either version (or a lenient number parser) would
 * take for a boolean, null, number, timestamp or merge key is quoted (`"yes"`, `"on"`, `"1e3"`,
 * `"0x10"`, `"0777"`, `"1:20"`).
 */
export function toYaml(value: unknown): string {
  const doc = new Document(value);
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value === 'string' && readsAsOtherType(node.value)) node.type = 'QUOTE_DOUBLE';
    },
  });
  return doc.toString({ lineWidth: 0 });
}

/** Numbers as go-yaml and others accept them beyond the YAML 1.2 core schema: 1e3, +1, 0x1F, 0o7, 0b1, 1_000. */
const LENIENT_NUMBER = /^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?|\.[0-9_]+(?:[eE][-+]?[0-9]+)?|0x[0-9a-fA-F_]+|0o[0-7_]+|0b[01_]+|\.(?:inf|Inf|INF|nan|NaN|NAN))$/;

/** YAML 1.1 booleans and nulls; every other non-string plain scalar starts with one of [0-9+-.~<=]. */
const WORDS = new Set(['y', 'yes', 'n', 'no', 'true', 'false', 'on', 'off', 'null']);

function readsAsOtherType(text: string): boolean {
  if (!/^[0-9+\-.~<=]/.test(text) && !WORDS.has(text.toLowerCase())) return false;
  if (text === '<<' || text === '=' || LENIENT_NUMBER.test(text)) return true;
  for (const version of ['1.1', '1.2'] as const) {
    try {
      const back: unknown = parse(text, { version });
      if (back !== text) return true;
    } catch {
      return true;
    }
  }
  return false;
}
