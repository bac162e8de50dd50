/**
 * iproute2 without a kernel, for Dataplane tests: reads see no device, rules or routes of ours,
 * and the addresses the script holds; write batches are recorded, and `addr add|del` change the
 * held addresses, so a sequence of applies sees its own EIP changes.
 */
import type { Exec, ExecResult } from '../iproute/exec.js';

export interface ScriptedAddress {
  readonly ip: string;
  readonly prefixlen: number;
  readonly ifname: string;
  readonly metric?: number;
}

export interface ScriptedWrite {
  readonly tool: string;
  readonly lines: readonly string[];
}

export interface ScriptedIproute {
  readonly exec: Exec;
  readonly writes: ScriptedWrite[];
  readonly addresses: ScriptedAddress[];
}

const OK: ExecResult = { stdout: '', stderr: '', exitCode: 0 };

/**
 * `onWrite` runs before a write batch is recorded (to see what else the kernel holds at that
 * moment); `fail` names lines the kernel refuses.
 */
export function scriptedIproute(options: { addresses?: readonly ScriptedAddress[]; onWrite?: (w: ScriptedWrite) => void; fail?: (line: string) => boolean } = {}): ScriptedIproute {
  const writes: ScriptedWrite[] = [];
  const addresses: ScriptedAddress[] = [...(options.addresses ?? [])];

  const read = (tool: string, args: readonly string[], input: string): ExecResult => {
    if (tool === 'bridge') return { ...OK, stdout: '[]' };
    if (args.includes('-batch'))
      return {
        ...OK,
        stdout: input
          .trim()
          .split('\n')
          .map(() => '[]')
          .join('\n'),
      };
    if (args.join(' ') === '-json address show') {
      const byLink = new Map<string, ScriptedAddress[]>();
      for (const a of addresses) byLink.set(a.ifname, [...(byLink.get(a.ifname) ?? []), a]);
      const links = [...byLink].map(([ifname, list]) => ({
        ifname,
        addr_info: list.map((a) => ({
          family: a.ip.includes(':') ? 'inet6' : 'inet',
          local: a.ip,
          prefixlen: a.prefixlen,
          scope: 'global',
          ...(a.metric !== undefined ? { metric: a.metric } : {}),
        })),
      }));
      return { ...OK, stdout: JSON.stringify(links) };
    }
    throw new Error(`scripted iproute: no answer for ${tool} ${args.join(' ')}`);
  };

  const write = (tool: string, input: string): ExecResult => {
    const lines = input.trim().split('\n');
    const w = { tool, lines };
    options.onWrite?.(w);
    writes.push(w);
    const failures: string[] = [];
    lines.forEach((line, i) => {
      if (options.fail?.(line)) return void failures.push(`RTNETLINK answers: Operation not permitted\nCommand failed -:${i + 1}`);
      const addr = /^addr (add|del) (\S+)\/(\d+) dev (\S+)(?: metric (\d+))?/.exec(line);
      if (!addr) return;
      const [, verb, ip, prefixlen, ifname, metric] = addr as unknown as [string, string, string, string, string, string | undefined];
      const at = addresses.findIndex((a) => a.ip === ip && a.ifname === ifname);
      if (verb === 'del' && at >= 0) addresses.splice(at, 1);
      if (verb === 'add' && at < 0) addresses.push({ ip, prefixlen: Number(prefixlen), ifname, ...(metric ? { metric: Number(metric) } : {}) });
    });
    return { stdout: '', stderr: failures.join('\n'), exitCode: failures.length ? 1 : 0 };
  };

  const exec: Exec = async (file, args, input = '') => (args.includes('-json') ? read(file, args, input) : write(file, input));
  return { exec, writes, addresses };
}
