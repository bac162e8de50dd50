/**
 * Enforces the module boundaries of the library: pure layers import nothing that does I/O, the
 * dataplane never talks to the API server, the kube layer never touches the kernel.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';

interface Boundary {
  readonly dir: string;
  readonly forbidden: readonly RegExp[];
  readonly why: string;
}

const IO_MODULES = [/^node:(fs|child_process|net|dgram|http|https|os|worker_threads)(\/|$)/, /^(fs|child_process|net|dgram|http|https|os)$/, /^execa$/, /^koffi$/, /^@kubernetes\//, /^pino$/, /^prom-client$/];

const BOUNDARIES: readonly Boundary[] = [
  { dir: 'lib/api', forbidden: [...IO_MODULES, /\/(kube|dataplane|controller|planner|metrics|input)\//], why: 'lib/api is pure' },
  { dir: 'lib/planner', forbidden: [...IO_MODULES, /\/(kube|dataplane|controller|metrics|input)\//], why: 'lib/planner is pure' },
  { dir: 'lib/dataplane', forbidden: [/^@kubernetes\//, /\/(kube|controller)\//], why: 'lib/dataplane knows nothing of the API server' },
  { dir: 'lib/kube', forbidden: [/^execa$/, /^koffi$/, /\/dataplane\//], why: 'lib/kube never touches the kernel' },
  { dir: 'lib/controller', forbidden: [/^execa$/, /^koffi$/, /\/dataplane\//], why: 'the controller never touches the kernel' },
  { dir: 'lib', forbidden: [/(^|\/)agent\//, /(^|\/)e2e\//], why: 'lib/ never imports agent/ or e2e/' },
  { dir: 'agent/controller', forbidden: [/^execa$/, /^koffi$/, /\/dataplane\//, /local-dataplane/, /node-agent\//], why: 'sluice controller runs without kernel access (non-root, no capability)' },
];

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

async function sources(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const nested = await Promise.all(entries.map((e) => (e.isDirectory() ? sources(join(dir, e.name)) : Promise.resolve(e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [join(dir, e.name)] : []))));
  return nested.flat();
}

const violations: string[] = [];
for (const boundary of BOUNDARIES) {
  for (const file of await sources(boundary.dir)) {
    const text = await readFile(file, 'utf8');
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2] ?? '';
      const resolved = spec.startsWith('.') ? relative('.', join(file, '..', spec)) : spec;
      if (boundary.forbidden.some((re) => re.test(spec.startsWith('.') ? `/${resolved}` : spec))) {
        violations.push(`${file}: imports "${spec}" (${boundary.why})`);
      }
    }
  }
}
if (violations.length) {
  for (const v of violations) process.stderr.write(`${v}\n`);
  process.exit(1);
}
process.stdout.write('module boundaries hold\n');
