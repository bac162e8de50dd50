/**
 * Everything the failover scenarios and the benchmark watch while they break a gateway: a UDP
 * sequence flow from a pod (the receiver's gap is the outage, the delivering MAC says which
 * gateway node carried each datagram), optionally N long-lived TCP connections, and an ARP monitor
 * for the EIP on the external host. All of them stop when the watch ends, also on failure.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Lab } from '../../labkit/lab.js';
import { ArpWatch } from '../../labkit/flows/arp-watch.js';
import type { ArpReport } from '../../labkit/flows/arp-report.js';
import { TcpFlows } from '../../labkit/flows/tcp-flows.js';
import type { TcpFlowsReport } from '../../labkit/flows/tcp-flows-report.js';
import { UdpSeqFlow } from '../../labkit/flows/udp-seq.js';
import type { SeqArrival, SeqReport } from '../../labkit/flows/udp-seq-report.js';

export interface WatchOptions {
  pod: string;
  /** Long-lived TCP connections beside the UDP flow (default none). */
  tcp?: number;
  /** Watch who answers ARP for this address (default: no ARP monitor). */
  arpFor?: string;
  /** How long the flows run before the action, and at most after it returned. */
  beforeMs?: number;
  afterMs?: number;
  /**
   * Ends the watch early, settleMs after this holds for the datagrams received so far (e.g. the
   * flow arrives through another node); polled every 100 ms.
   */
  doneWhen?: (received: readonly SeqArrival[]) => boolean;
  settleMs?: number;
  rate?: number;
}

export interface WatchReport<T> {
  /** What the action returned. */
  readonly value: T;
  /** When the action started and when it returned (epoch ms); TCP connections must carry data sent after it returned. */
  readonly actedAt: number;
  readonly returnedAt: number;
  readonly udp: SeqReport;
  readonly tcp: TcpFlowsReport | undefined;
  readonly arp: ArpReport | undefined;
}

/** Node name by the MAC of its LAN interface, to tell which gateway delivered a datagram. */
export async function nodesByMac(lab: Lab): Promise<Map<string, string>> {
  const info = await lab.info();
  const out = new Map<string, string>();
  for (const n of info.nodes) out.set((await lab.exec({ node: n.name }, ['cat', '/sys/class/net/eth0/address'])).stdout.trim(), n.name);
  return out;
}

/** `action` gets the datagrams received so far: the last one says which node carries the flow now. */
export async function watchWhile<T>(lab: Lab, opts: WatchOptions, action: (received: readonly SeqArrival[]) => Promise<T>): Promise<WatchReport<T>> {
  const life = { maxLifetimeS: 600 };
  const udp = await UdpSeqFlow.start(lab, opts.pod, { ...life, ...(opts.rate ? { rate: opts.rate } : {}) });
  let tcp: TcpFlows | undefined;
  let arp: ArpWatch | undefined;
  let actedAt = Date.now();
  let returnedAt = Date.now();
  const stopAll = async () => {
    const [u, t, a] = await Promise.allSettled([udp.stop(), tcp?.stop(returnedAt), arp?.stop()]);
    return { u, t, a };
  };
  let value: T;
  try {
    if (opts.tcp) tcp = await TcpFlows.start(lab, opts.pod, { count: opts.tcp, ...life });
    if (opts.arpFor) arp = await ArpWatch.start(lab, opts.arpFor, life);
    await sleep(opts.beforeMs ?? 2_000);
    actedAt = Date.now();
    value = await action(udp.received);
    returnedAt = Date.now();
    const until = Date.now() + (opts.afterMs ?? 4_000);
    while (Date.now() < until && !opts.doneWhen?.(udp.received)) await sleep(100);
    if (Date.now() < until) await sleep(Math.min(opts.settleMs ?? 1_000, until - Date.now()));
  } catch (err) {
    await stopAll();
    throw err;
  }
  const { u, t, a } = await stopAll();
  if (u.status === 'rejected') throw u.reason;
  if (t.status === 'rejected') throw t.reason;
  if (a.status === 'rejected') throw a.reason;
  return { value, actedAt, returnedAt, udp: u.value, tcp: t.value, arp: a.value };
}

/** The node that delivered the last datagrams of the flow, by MAC. */
export function lastCarrier(r: SeqReport, macs: ReadonlyMap<string, string>): string | undefined {
  const last = r.runs[r.runs.length - 1];
  return last ? (macs.get(last.via) ?? last.via) : undefined;
}

/** The source most datagrams came from. */
const eipOf = (r: SeqReport) => [...r.sources].sort((a, b) => b.count - a.count)[0]?.src;

/** One line for a test's diagnostics: the outage, loss, and which node carried the flow when. */
export function describeFlow(r: SeqReport, macs: ReadonlyMap<string, string>): string {
  const runs = r.runs.filter((x) => x.count >= 10).map((x) => `${macs.get(x.via) ?? x.via}${x.src === eipOf(r) ? '' : ` from ${x.src}`} (${x.count})`);
  return `largest gap ${r.maxGapMs} ms (${r.lostInMaxGap} lost in it), ${r.lost} of ${r.sent} lost, sender stall ≤ ${r.senderMaxStallMs} ms, carried by ${runs.join(' → ')}, sources ${[...new Set(r.sources.map((s) => s.src))].join(', ')}`;
}
