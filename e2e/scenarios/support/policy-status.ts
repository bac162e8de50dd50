/** What the controller wrote into a policy's status, read with kubectl. */
import type { Condition, EgressPolicyWire, PolicyStatusWire } from '../../../lib/api/wire.js';
import type { Lab } from '../../labkit/lab.js';
import { kubectlJson } from './kubectl.js';
import { waitFor } from './wait.js';

const ASSIGN_TIMEOUT_MS = 30_000;

/** `get KIND NAME [-n NS]` for kubectl. */
export function policyGetArgs(p: EgressPolicyWire): string[] {
  const ns = p.metadata?.namespace ? ['-n', p.metadata.namespace] : [];
  return ['get', `${p.kind!.toLowerCase()}.egress.sluice.dev`, p.metadata!.name!, ...ns];
}

export async function policyStatus(lab: Lab, p: EgressPolicyWire): Promise<PolicyStatusWire> {
  return (await kubectlJson<EgressPolicyWire>(lab, policyGetArgs(p))).status ?? {};
}

export function condition(status: PolicyStatusWire, type: string): Condition | undefined {
  return status.conditions?.find((c) => c.type === type);
}

export interface Assignment {
  readonly node: string;
  readonly ipv4?: string;
  readonly ipv6?: string;
}

/**
 * Waits until the policy is Ready with a gateway node (and, when given, that node or EIP), and
 * returns where it is carried. Status may name a node the agents did not pick, for a moment
 * (status follows the data path: a node the probes keep aside, a takeover); with `programmed`
 * it waits until every node involved applied the policy for the node status names, which is then
 * the node that carries it.
 */
export async function waitAssigned(
  lab: Lab,
  p: EgressPolicyWire,
  want: { node?: string; notNode?: string; ipv4?: string; programmed?: boolean } = {},
  timeoutMs = ASSIGN_TIMEOUT_MS,
): Promise<Assignment> {
  const what = `${p.kind} ${p.metadata?.namespace ? `${p.metadata.namespace}/` : ''}${p.metadata?.name} to be Ready${want.programmed ? ' and Programmed' : ''}${want.node ? ` on ${want.node}` : ''}${want.notNode ? ` off ${want.notNode}` : ''}${want.ipv4 ? ` with ${want.ipv4}` : ''}`;
  return waitFor(what, timeoutMs, async () => {
    const s = await policyStatus(lab, p);
    const ready = condition(s, 'Ready');
    const programmed = condition(s, 'Programmed');
    const seen = `Ready=${ready?.status ?? '-'} ${ready?.reason ?? ''}, Programmed=${programmed?.status ?? '-'} ${programmed?.message ?? ''}, node ${s.node || '-'}, eip ${JSON.stringify(s.eip ?? {})}`;
    const ok =
      ready?.status === 'True' &&
      (!want.programmed || programmed?.status === 'True') &&
      s.node &&
      (!want.node || s.node === want.node) &&
      (!want.notNode || s.node !== want.notNode) &&
      (!want.ipv4 || s.eip?.ipv4 === want.ipv4);
    if (!ok) throw new Error(seen);
    return { node: s.node!, ...(s.eip?.ipv4 ? { ipv4: s.eip.ipv4 } : {}), ...(s.eip?.ipv6 ? { ipv6: s.eip.ipv6 } : {}) };
  });
}
