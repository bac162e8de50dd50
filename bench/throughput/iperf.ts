/**
 * One iperf3 measurement: a one-off server in the external host's namespace, bound to its LAN
 * address, and the client in a pod. A fresh server per run, so a run that went wrong cannot leave
 * a busy server behind for the next one.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import type { ExecTarget, Lab } from '../../e2e/labkit/lab.js';

const PORT = 5201;
const LISTEN_TIMEOUT_MS = 5_000;
const SERVER_EXIT_MS = 5_000;
/** The first second (slow start, path MTU discovery) is left out of the figure. */
const OMIT_SECONDS = 1;

export interface IperfResult {
  readonly gbps: number;
  readonly retransmits: number;
  /** MSS the client's kernel chose for the test connection. */
  readonly mss: number;
}

interface IperfJson {
  readonly start?: { readonly tcp_mss_default?: number };
  readonly end?: { readonly sum_received?: { readonly bits_per_second: number }; readonly sum_sent?: { readonly retransmits?: number } };
  readonly error?: string;
}

async function waitListening(netns: string, port: number): Promise<void> {
  const until = Date.now() + LISTEN_TIMEOUT_MS;
  while (Date.now() < until) {
    const r = await execa('ip', ['netns', 'exec', netns, 'ss', '-Hltn', `sport = :${port}`], { reject: false, timeout: 2_000 });
    if (r.exitCode === 0 && String(r.stdout).trim()) return;
    await sleep(25);
  }
  throw new Error(`iperf3 server in ${netns} is not listening on ${port} after ${LISTEN_TIMEOUT_MS} ms`);
}

export async function iperf(lab: Lab, client: ExecTarget, server: string, seconds: number, streams: number): Promise<IperfResult> {
  const netns = await lab.netnsOf({ host: 'ext' });
  const daemon = execa('ip', ['netns', 'exec', netns, 'iperf3', '-s', '-1', '-B', server, '-p', String(PORT)], {
    reject: false,
    stdin: 'ignore',
    timeout: (seconds + OMIT_SECONDS + 30) * 1000,
  });
  try {
    await waitListening(netns, PORT);
    const argv = ['iperf3', '-c', server, '-p', String(PORT), '-t', String(seconds), '-O', String(OMIT_SECONDS), '-P', String(streams), '-J', '--connect-timeout', '3000'];
    const r = await lab.exec(client, argv, { timeoutMs: (seconds + OMIT_SECONDS + 20) * 1000, allowFailure: true });
    let json: IperfJson | undefined;
    try {
      json = JSON.parse(r.stdout) as IperfJson;
    } catch {
      // reported below
    }
    const bps = json?.end?.sum_received?.bits_per_second;
    if (r.exitCode !== 0 || bps === undefined) {
      throw new Error(`iperf3 -P ${streams} failed (exit ${r.exitCode}): ${json?.error ?? (r.stderr.trim() || r.stdout.slice(0, 300))}`);
    }
    return { gbps: bps / 1e9, retransmits: json?.end?.sum_sent?.retransmits ?? 0, mss: json?.start?.tcp_mss_default ?? 0 };
  } finally {
    const exited = await Promise.race([daemon.then(() => true), sleep(SERVER_EXIT_MS, false)]);
    if (!exited) daemon.kill('SIGKILL');
    await daemon;
  }
}
