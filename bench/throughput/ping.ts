/** Round-trip times from a pod: `ping -c N -i 0.01` (root may go below 0.2 s). */
import type { ExecTarget, Lab } from '../../e2e/labkit/lab.js';

export interface PingResult {
  readonly minMs: number;
  readonly avgMs: number;
  readonly lossPct: number;
}

export async function ping(lab: Lab, from: ExecTarget, to: string, count: number): Promise<PingResult> {
  const argv = ['ping', '-n', '-q', '-c', String(count), '-i', '0.01', '-W', '1', to];
  const r = await lab.exec(from, argv, { timeoutMs: 10_000 + count * 50, allowFailure: true });
  const rtt = /= ([\d.]+)\/([\d.]+)\/([\d.]+)\/([\d.]+) ms/.exec(r.stdout);
  const loss = /([\d.]+)% packet loss/.exec(r.stdout);
  if (!rtt || !loss) throw new Error(`ping ${to} failed (exit ${r.exitCode}): ${r.stderr.trim() || r.stdout.trim()}`);
  return { minMs: Number(rtt[1]), avgMs: Number(rtt[2]), lossPct: Number(loss[1]) };
}
