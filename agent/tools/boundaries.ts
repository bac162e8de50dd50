/**
 * The module boundaries of the library: pure layers import nothing that does I/O, the dataplane
 * never talks to the API server, the kube layer never touches the kernel and knows nothing of the
 * egress API. check-boundaries.ts applies them to the tree (make lint).
 */
import { join, relative } from 'node:path';

export interface Boundary {
  readonly dir: string;
  readonly forbidden: readonly RegExp[];
  readonly why: string;
}

const IO_MODULES = [
  /^node:(fs|child_process|net|dgram|http|https|os|worker_threads)(\/|$)/,
  /^(fs|child_process|net|dgram|http|https|os)$/,
  /^execa$/,
  /^koffi$/,
  /^@kubernetes\//,
  /^pino$/,
  /^prom-client$/,
];

/**
 * What lib/kube may read of lib/api: the JSON field readers and the meta/v1 shapes every kind
 * shares. Everything else there is the egress API, which lib/cluster and lib/controller bring to
 * the kube layer, never the other way round.
 */
const KUBE_MAY_IMPORT_FROM_API = /^\/lib\/api\/(?!(fields|meta)\.js$)/;

export const BOUNDARIES: readonly Boundary[] = [
  { dir: 'lib/api', forbidden: [...IO_MODULES, /\/(kube|cluster|dataplane|controller|planner|metrics|input)\//], why: 'lib/api is pure' },
  { dir: 'lib/planner', forbidden: [...IO_MODULES, /\/(kube|cluster|dataplane|controller|metrics|input)\//], why: 'lib/planner is pure' },
  { dir: 'lib/dataplane', forbidden: [/^@kubernetes\//, /\/(kube|cluster|controller)\//], why: 'lib/dataplane knows nothing of the API server' },
  { dir: 'lib/kube', forbidden: [/^execa$/, /^koffi$/, /\/dataplane\//], why: 'lib/kube never touches the kernel' },
  {
    dir: 'lib/kube',
    forbidden: [/\/(planner|cluster|controller)\//, KUBE_MAY_IMPORT_FROM_API],
    why: "lib/kube is generic: the egress kinds, the store of them and the planner are lib/cluster's",
  },
  {
    dir: 'lib/cluster',
    forbidden: [/^execa$/, /^koffi$/, /\/(dataplane|controller)\//],
    why: 'lib/cluster never touches the kernel and serves the controller, not the other way round',
  },
  { dir: 'lib/controller', forbidden: [/^execa$/, /^koffi$/, /\/dataplane\//], why: 'the controller never touches the kernel' },
  { dir: 'lib', forbidden: [/(^|\/)agent\//, /(^|\/)e2e\//], why: 'lib/ never imports agent/ or e2e/' },
  {
    dir: 'agent/controller',
    forbidden: [/^execa$/, /^koffi$/, /\/dataplane\//, /local-dataplane/, /node-agent\//],
    why: 'sluice controller runs without kernel access (non-root, no capability)',
  },
];

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

export interface SourceFile {
  /** Relative to the repository root, e.g. lib/kube/store.ts. */
  readonly path: string;
  readonly text: string;
}

/** Whether a boundary covers a file: it lies under the boundary's dir and is not a test. */
function covers(boundary: Boundary, path: string): boolean {
  return path.startsWith(`${boundary.dir}/`) && path.endsWith('.ts') && !path.endsWith('.test.ts');
}

/** Every import that crosses a boundary, as `file: imports "spec" (why)`. */
export function boundaryViolations(files: readonly SourceFile[], boundaries: readonly Boundary[] = BOUNDARIES): string[] {
  const violations: string[] = [];
  for (const boundary of boundaries) {
    for (const file of files.filter((f) => covers(boundary, f.path))) {
      for (const m of file.text.matchAll(IMPORT)) {
        const spec = m[1] ?? m[2] ?? '';
        const resolved = spec.startsWith('.') ? `/${relative('.', join(file.path, '..', spec))}` : spec;
        if (boundary.forbidden.some((re) => re.test(resolved))) violations.push(`${file.path}: imports "${spec}" (${boundary.why})`);
      }
    }
  }
  return violations;
}
