/**
 * The lab as the planner sees it (e2e/dataplane's lab snapshot: its nodes, one gateway over the
 * gateway nodes, its pods), with and without one policy selecting the client pod. Plans come from
 * the real planner, with the tunnel in 198.19.0.0/16 so every address stays inside the lab's range.
 */
import type { LabInfo, PodInfo } from '../../e2e/labkit/info.js';
import { GATEWAY_NAME, LAB_CONFIG, labSnapshot } from '../../e2e/dataplane/lab-cluster.js';
import type { NodePlan } from '../../lib/planner/node-plan.js';
import { plan } from '../../lib/planner/plan.js';
import { policy } from '../../lib/planner/testing/cluster.js';

export const TUNNEL_CIDR_V4 = LAB_CONFIG.tunnelCidrV4;

export interface BenchPlans {
  readonly eip: string;
  /** Gateway nodes first: they must be ready before a worker sends into the tunnel. */
  readonly withPolicy: readonly NodePlan[];
  /** Workers first: they stop sending before the gateway stops serving. */
  readonly withoutPolicy: readonly NodePlan[];
  /** The same policy with the gateway at `transport: native` (gateway nodes first). */
  readonly native: readonly NodePlan[];
}

/** `macs`: each node's eth0 MAC, as its agent would publish it for native routing. */
export function benchPlans(info: LabInfo, client: PodInfo, macs: Readonly<Record<string, string>>): BenchPlans {
  const selecting = policy(client.namespace, 'bench', {
    egressGatewayName: GATEWAY_NAME,
    appliedTo: { podSelector: { matchLabels: client.labels } },
  });
  const gatewaysFirst = [...info.nodes].sort((a, b) => Number(b.role === 'gateway') - Number(a.role === 'gateway'));
  const known = info.pods.some((p) => p.namespace === client.namespace && p.name === client.name);
  const lab: LabInfo = known ? info : { ...info, pods: [...info.pods, client] };
  const on = labSnapshot(lab, { policies: [selecting] });
  const off = labSnapshot(lab, { policies: [] });
  const withPolicy = gatewaysFirst.map((n) => plan(on, n.name));
  const nativeOn = labSnapshot(lab, { policies: [selecting], native: { macs } });
  const native = gatewaysFirst.map((n) => plan(nativeOn, n.name));
  if (!native.some((p) => p.routing.routes.some((r) => r.dev !== nativeOn.config.vxlan.device && r.dst === 'default'))) throw new Error('the native plans route nothing natively');
  const entries = withPolicy.flatMap((p) => p.policies);
  const eip = entries.find((p) => p.role === 'gateway')?.snatV4;
  if (!eip) throw new Error(`no node carries the bench policy: ${entries.map((p) => p.reason ?? p.role).join(', ')}`);
  return { eip, withPolicy, native, withoutPolicy: [...gatewaysFirst].reverse().map((n) => plan(off, n.name)) };
}
