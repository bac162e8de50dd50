/** Which source address the external echo service sees for a pod's traffic. */
import { echoProbe, parseEchoReply, type IpFamily } from '../../labkit/echo-client.js';
import type { EchoProto } from '../../labkit/echo-reply.js';
import type { Lab } from '../../labkit/lab.js';
import { waitFor } from './wait.js';

export const ALL_PROTOS: readonly EchoProto[] = ['http', 'tcp', 'udp'];
const PROBE_TIMEOUT_SEC = 2;
const CONVERGE_TIMEOUT_MS = 30_000;

export interface EchoOptions {
  /** Another address of the external host (default: the echo service's own address of the family). */
  dest?: string;
  family?: IpFamily;
}

/** One probe from the pod: the clientIP the echo service answered with. Throws without an answer. */
export async function seenFrom(lab: Lab, pod: string, proto: EchoProto, opts: EchoOptions = {}): Promise<string> {
  const { echo } = await lab.info();
  const family = opts.family ?? (opts.dest?.includes(':') ? 6 : 4);
  const target = opts.dest === undefined ? echo : family === 4 ? { ...echo, ipv4: opts.dest } : { ...echo, ipv6: opts.dest };
  const probe = echoProbe(target, proto, family, PROBE_TIMEOUT_SEC);
  const r = await lab.exec({ pod }, probe.argv, {
    allowFailure: true,
    timeoutMs: (PROBE_TIMEOUT_SEC + 3) * 1000,
    ...(probe.input === undefined ? {} : { input: probe.input }),
  });
  if (r.exitCode !== 0 || !r.stdout.trim()) throw new Error(`${pod} ${proto}: no answer (exit ${r.exitCode}) ${r.stderr.trim()}`);
  return parseEchoReply(r.stdout, proto).clientIP;
}

/**
 * Waits until the echo service sees `ip` as the source of the pod's traffic, over every protocol
 * asked for. Bounded: the agents must converge within timeoutMs.
 */
export async function expectLeavesAs(lab: Lab, pod: string, ip: string, opts: EchoOptions & { protos?: readonly EchoProto[]; timeoutMs?: number } = {}): Promise<void> {
  const protos = opts.protos ?? ['http'];
  const where = opts.dest ? ` to ${opts.dest}` : opts.family === 6 ? ' over IPv6' : '';
  await waitFor(`${pod} to leave as ${ip}${where} (${protos.join(', ')})`, opts.timeoutMs ?? CONVERGE_TIMEOUT_MS, async () => {
    for (const proto of protos) {
      const seen = await seenFrom(lab, pod, proto, opts);
      if (seen !== ip) throw new Error(`${proto} seen as ${seen}`);
    }
    return true;
  });
}

/** One probe per protocol, no retries: for pods whose path must already be settled. */
export async function assertLeavesAs(lab: Lab, pod: string, ip: string, opts: EchoOptions & { protos?: readonly EchoProto[] } = {}): Promise<void> {
  for (const proto of opts.protos ?? ['http']) {
    const seen = await seenFrom(lab, pod, proto, opts);
    if (seen !== ip) throw new Error(`${pod} ${proto}${opts.dest ? ` to ${opts.dest}` : ''}: the echo service saw ${seen}, expected ${ip}`);
  }
}
