import { EgressError } from '../../errors.js';
import type { Exec } from '../iproute/exec.js';
import { insideAny, type FlushTargets } from './flush-targets.js';

/** One entry as `conntrack -L` prints it: the original direction's tuple. */
export interface ConntrackEntry {
  readonly proto: string;
  readonly src: string;
  readonly dst: string;
  readonly sport?: string;
  readonly dport?: string;
}

/** Parses `conntrack -L` text: the first src/dst/sport/dport of a line are the original direction's. */
export function parseConntrackList(text: string): ConntrackEntry[] {
  const out: ConntrackEntry[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    const proto = fields[0];
    if (!proto || !/^[a-z0-9]+$/.test(proto) || proto === 'conntrack') continue;
    const first = (key: string) => fields.find((f) => f.startsWith(`${key}=`))?.slice(key.length + 1);
    const src = first('src');
    const dst = first('dst');
    if (!src || !dst) continue;
    const sport = first('sport');
    const dport = first('dport');
    out.push({ proto, src, dst, ...(sport ? { sport } : {}), ...(dport ? { dport } : {}) });
  }
  return out;
}

/** What a flush did: entries deleted, and errors (a flush never throws: the apply already happened). */
export interface FlushResult {
  readonly deleted: number;
  readonly errors: readonly string[];
}

/**
 * Deletes the entries FlushTargets names with the conntrack tool: for each pod address, its
 * entries to destinations outside the cluster (listed, then deleted one by one by their tuple); for
 * each egress IP, the entries source-NATed to it. Exit code 1 with "0 flow entries" is "none".
 */
export async function flushConntrack(exec: Exec, targets: FlushTargets): Promise<FlushResult> {
  let deleted = 0;
  const errors: string[] = [];
  const family = (f: 4 | 6) => (f === 6 ? 'ipv6' : 'ipv4');
  const run = async (args: string[]) => {
    const r = await exec('conntrack', args);
    const none = / 0 flow entries/.test(r.stderr);
    if (r.exitCode !== 0 && !none) throw new EgressError('EGW_ERR_CONNTRACK', `conntrack ${args.join(' ')}: ${r.stderr.trim() || `exit ${r.exitCode}`}`);
    return r;
  };
  const counted = (stderr: string) => Number(/(\d+) flow entries/.exec(stderr)?.[1] ?? 0);
  for (const pod of targets.pods) {
    try {
      const listed = parseConntrackList((await run(['-L', '-f', family(pod.family), '-s', pod.ip])).stdout);
      for (const e of listed) {
        if (e.src !== pod.ip || insideAny(e.dst, targets.cluster)) continue;
        const ports = e.sport && e.dport && (e.proto === 'tcp' || e.proto === 'udp' || e.proto === 'sctp') ? ['--sport', e.sport, '--dport', e.dport] : [];
        deleted += counted((await run(['-D', '-f', family(pod.family), '-p', e.proto, '-s', e.src, '-d', e.dst, ...ports])).stderr);
      }
    } catch (err) {
      errors.push(err instanceof Error ? err.message : String(err));
    }
  }
  for (const eip of targets.eips) {
    try {
      deleted += counted((await run(['-D', '-f', family(eip.family), '--src-nat', eip.ip])).stderr);
    } catch (err) {
      errors.push(err instanceof Error ? err.message : String(err));
    }
  }
  return { deleted, errors };
}
