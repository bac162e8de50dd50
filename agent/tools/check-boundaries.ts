/** Checks the module boundaries (boundaries.ts) of the source tree; run from the repository root. */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BOUNDARIES, boundaryViolations, type SourceFile } from './boundaries.js';

async function sources(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const nested = await Promise.all(entries.map((e) => (e.isDirectory() ? sources(join(dir, e.name)) : Promise.resolve(e.name.endsWith('.ts') ? [join(dir, e.name)] : []))));
  return nested.flat();
}

const roots = [...new Set(BOUNDARIES.map((b) => b.dir.split('/')[0]!))];
const files: SourceFile[] = await Promise.all((await Promise.all(roots.map(sources))).flat().map(async (path) => ({ path, text: await readFile(path, 'utf8') })));
const violations = boundaryViolations(files);
if (violations.length) {
  for (const v of violations) process.stderr.write(`${v}\n`);
  process.exit(1);
}
process.stdout.write('module boundaries hold\n');
