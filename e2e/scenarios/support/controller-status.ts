/** Status the controller owns, read back to see whether it rewrote what others scribbled over. */
import type { Condition, EgressGatewayWire, EgressTunnelWire } from '../../../lib/api/wire.js';
import type { Lab } from '../../labkit/lab.js';
import { kubectlJson } from './kubectl.js';

/** A gateway's status with the conditions' transition times left out (a rewrite may move them). */
export async function gatewayStatus(lab: Lab, name: string): Promise<unknown> {
  const status = (await kubectlJson<EgressGatewayWire>(lab, ['get', 'egressgateway.egress.sluice.dev', name])).status ?? {};
  return { ...status, conditions: (status.conditions ?? []).map(({ lastTransitionTime: _, ...c }: Condition) => c) };
}

/** Every EgressTunnel's status as the controller writes it, by node (the agents' `applied` reports left out). */
export async function tunnelStatuses(lab: Lab): Promise<Map<string, Omit<NonNullable<EgressTunnelWire['status']>, 'applied'>>> {
  const list = await kubectlJson<{ items: EgressTunnelWire[] }>(lab, ['get', 'egresstunnels.egress.sluice.dev']);
  return new Map(
    list.items.map((t) => {
      const { applied: _, ...status } = t.status ?? {};
      return [t.metadata!.name!, status];
    }),
  );
}
