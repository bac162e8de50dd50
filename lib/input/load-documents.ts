import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { EgressError, errorMessage } from '../errors.js';

/** One YAML document with where it came from (`file:index`, index 1-based). */
export interface SourceDocument {
  readonly file: string;
  readonly index: number;
  readonly body: unknown;
  /** Set when the YAML itself did not parse. */
  readonly syntaxError?: string;
}

const YAML_FILE = /\.(ya?ml|json)$/i;

async function filesOf(path: string): Promise<string[]> {
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    throw new EgressError('EGW_ERR_INPUT', `${path}: cannot read (${errorMessage(err)})`, { cause: err });
  }
  if (!info.isDirectory()) return [path];
  const entries = await readdir(path, { withFileTypes: true });
  const nested = await Promise.all(
    entries
      .filter((e) => e.isDirectory() || YAML_FILE.test(e.name))
      .sort((a, b) => (a.name < b.name ? -1 : 1))
      .map((e) => (e.isDirectory() ? filesOf(join(path, e.name)) : Promise.resolve([join(path, e.name)]))),
  );
  return nested.flat();
}

function flattenLists(body: unknown): unknown[] {
  if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
    const rec = body as Record<string, unknown>;
    if (typeof rec.kind === 'string' && rec.kind.endsWith('List') && Array.isArray(rec.items)) return rec.items.flatMap(flattenLists);
  }
  return [body];
}

/** Reads a YAML/JSON file, `-` for stdin text given as `stdinText`, or a folder of them. */
export async function loadDocuments(path: string, stdinText?: string): Promise<SourceDocument[]> {
  const files = path === '-' ? ['-'] : await filesOf(path);
  const out: SourceDocument[] = [];
  for (const file of files) {
    const text = file === '-' ? (stdinText ?? '') : await readFile(file, 'utf8');
    let index = 0;
    for (const doc of parseAllDocuments(text)) {
      if (doc.errors.length > 0) {
        out.push({ file, index: ++index, body: undefined, syntaxError: doc.errors[0]!.message.split('\n')[0]! });
        continue;
      }
      const body: unknown = doc.toJS({ maxAliasCount: 100 });
      if (body === null || body === undefined) continue;
      for (const item of flattenLists(body)) out.push({ file, index: ++index, body: item });
    }
  }
  return out;
}
