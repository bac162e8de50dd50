/** The image's runtime tree, staged by image/runtime-tree.sh (the script the Dockerfile runs), for tests. */
import { readdir, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../labkit/run.js';

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));
export const STAGE_SCRIPT = join(REPO, 'image', 'runtime-tree.sh');
const STAGE_TIMEOUT_MS = 300_000;

export interface RuntimeTree {
  readonly root: string;
  readonly main: string;
}

/** Runs the staging script into `out` (which it replaces). */
export async function stageRuntimeTree(out: string): Promise<RuntimeTree> {
  const r = await run([STAGE_SCRIPT, out], { allowFailure: true, timeoutMs: STAGE_TIMEOUT_MS });
  if (r.exitCode !== 0) throw new Error(`image/runtime-tree.sh failed (exit ${r.exitCode}):\n${r.stderr}${r.stdout}`);
  return { root: out, main: join(out, 'dist', 'agent', 'main.js') };
}

export async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name)));
}

const RELATIVE_IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

/** Relative imports of the tree's own code that do not resolve to a file inside the tree. */
export async function unresolvedImports(tree: RuntimeTree): Promise<string[]> {
  const dist = join(tree.root, 'dist');
  const missing: string[] = [];
  for (const file of (await filesUnder(dist)).filter((f) => f.endsWith('.js'))) {
    const text = await readFile(join(dist, file), 'utf8');
    for (const m of text.matchAll(RELATIVE_IMPORT)) {
      const target = resolve(dirname(join(dist, file)), m[1] ?? m[2]!);
      if (!target.startsWith(`${tree.root}/`) || !existsSync(target)) missing.push(`dist/${file} → ${m[1] ?? m[2]}`);
    }
  }
  return missing;
}
