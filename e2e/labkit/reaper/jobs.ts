/**
 * What a reaper does once its owner process is gone, and how that travels on the reaper's command line.
 * - lab: take the lab down at once (no goodbyes), if its state still names the owner;
 * - netns: kill every process in the namespaces whose names start with the prefix, delete them;
 * - group: SIGKILL a process group, if its leader is still the process that was recorded.
 */
import { formatIdentity, parseIdentity, type ProcessIdentity } from './process-identity.js';

export type ReaperJob = { kind: 'lab'; name: string; baseDir: string } | { kind: 'netns'; prefix: string } | { kind: 'group'; leader: ProcessIdentity };

/** A per-run prefix such as a lab's `sl<hash4>-`; a short or bare one could match namespaces that are not ours. */
const NETNS_PREFIX = /^(?=.*-)[a-z][a-z0-9-]{4,62}$/;

export function jobArgs(job: ReaperJob): string[] {
  switch (job.kind) {
    case 'lab':
      return ['--lab', job.name, '--base-dir', job.baseDir];
    case 'netns':
      assertNetnsPrefix(job.prefix);
      return ['--netns-prefix', job.prefix];
    case 'group':
      return ['--group', formatIdentity(job.leader)];
  }
}

/** The reaper's one line on stdout: it watches its owner from now on. */
export const REAPER_WATCHING = 'watching';

export interface ReaperArgs {
  owner: ProcessIdentity;
  job: ReaperJob;
}

export function reaperArgs(owner: ProcessIdentity, job: ReaperJob): string[] {
  return ['--owner', formatIdentity(owner), ...jobArgs(job)];
}

export function parseReaperArgs(argv: readonly string[]): ReaperArgs {
  const opts = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 2) {
    const [key, value] = [argv[i]!, argv[i + 1]];
    if (!key.startsWith('--') || value === undefined || opts.has(key)) throw new Error(`reaper: bad arguments ${JSON.stringify(argv)}`);
    opts.set(key, value);
  }
  const take = (key: string) => {
    const v = opts.get(key);
    opts.delete(key);
    return v;
  };
  const owner = take('--owner');
  if (owner === undefined) throw new Error('reaper: --owner PID:STARTTICKS is required');
  const lab = take('--lab');
  const baseDir = take('--base-dir');
  const prefix = take('--netns-prefix');
  const group = take('--group');
  const jobs: ReaperJob[] = [
    ...(lab !== undefined && baseDir !== undefined ? [{ kind: 'lab' as const, name: lab, baseDir }] : []),
    ...(prefix !== undefined ? [{ kind: 'netns' as const, prefix: assertNetnsPrefix(prefix) }] : []),
    ...(group !== undefined ? [{ kind: 'group' as const, leader: parseIdentity(group) }] : []),
  ];
  if (jobs.length !== 1 || opts.size > 0 || (lab === undefined) !== (baseDir === undefined)) {
    throw new Error(`reaper: exactly one of --lab NAME --base-dir DIR, --netns-prefix P, --group PID:STARTTICKS (got ${JSON.stringify(argv)})`);
  }
  return { owner: parseIdentity(owner), job: jobs[0]! };
}

function assertNetnsPrefix(prefix: string): string {
  if (!NETNS_PREFIX.test(prefix)) throw new Error(`reaper: netns prefix ${JSON.stringify(prefix)} is too loose`);
  return prefix;
}
