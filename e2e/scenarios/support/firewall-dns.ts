/** Firewalls' rules by name in a scenario lab: agents with the DNS forwarder on, and calls by name. */
import { agentDaemon } from '../../labkit/cluster/agent-daemon.js';
import { parseEchoReply } from '../../labkit/echo-client.js';
import type { EchoReply } from '../../labkit/echo-reply.js';
import type { Lab } from '../../labkit/lab.js';

export const FORWARDER_PORT = 15353;

/** The cluster DNS pod's IPv4 address, which the forwarder asks and whose queries are steered. */
export async function kubeDnsV4(lab: Lab): Promise<string> {
  const ip = (await lab.info()).dns.kubeDns?.ips.find((a) => !a.includes(':'));
  if (!ip) throw new Error(`lab ${lab.name} runs no cluster DNS pod (bring it up with kubeDns)`);
  return ip;
}

/** The agents' arguments that turn the forwarder on. */
export async function forwarderArgs(lab: Lab, port = FORWARDER_PORT): Promise<string[]> {
  return ['--firewall-dns-port', String(port), '--firewall-dns-upstream', await kubeDnsV4(lab)];
}

/** Restarts the agents of these nodes with the forwarder on; returns how to put the plain agents back. */
export async function enableFirewallDns(lab: Lab, nodes: readonly string[], port = FORWARDER_PORT): Promise<() => Promise<void>> {
  const state = await lab.state();
  const extra = await forwarderArgs(lab, port);
  const plain = nodes.map((name) =>
    agentDaemon(
      state,
      state.nodes.find((n) => n.name === name)!,
      state.agent,
    ),
  );
  for (const name of nodes) {
    const node = state.nodes.find((n) => n.name === name);
    if (!node) throw new Error(`no node ${name} in lab ${lab.name}`);
    await lab.replaceDaemon(agentDaemon(state, node, { ...state.agent, args: [...(state.agent?.args ?? []), ...extra] }));
  }
  return async () => {
    for (const d of plain) await lab.replaceDaemon(d);
  };
}

/** `ms`: how long curl itself waited for the refusal, measured in the pod (not the exec around it). */
export type CallOutcome = { kind: 'answer'; reply: EchoReply } | { kind: 'refused'; ms: number } | { kind: 'other'; detail: string };

/**
 * One call from the pod as an application makes it: curl resolves `host` (a name through the pod's
 * resolver, or an address) and connects at once; HTTPS verifies the echo's certificate with the lab
 * CA and sends the name as SNI.
 */
export async function callEcho(lab: Lab, pod: string, proto: 'http' | 'https', host: string): Promise<CallOutcome> {
  const { echo } = await lab.info();
  const url = proto === 'http' ? `http://${host}:${echo.httpPort}/` : `https://${host}:${echo.httpsPort}/`;
  const tls = proto === 'https' ? ['--cacert', echo.caFile!] : [];
  const r = await lab.exec({ pod }, ['curl', '-sS', '--max-time', '4', ...tls, url], { allowFailure: true, timeoutMs: 15_000 });
  if (r.exitCode === 0) return { kind: 'answer', reply: parseEchoReply(r.stdout, proto) };
  // curl exit 7: the connection was refused (the firewall's TCP reset); curl says how long it waited
  const waited = /after (\d+) ms/.exec(r.stderr);
  if (r.exitCode === 7 && waited) return { kind: 'refused', ms: Number(waited[1]) };
  return { kind: 'other', detail: `exit ${r.exitCode}: ${r.stderr.trim()}` };
}
