/**
 * A node's heartbeat, as a kubelet sends it: renew the Lease kube-node-lease/<node> over the LAN, from
 * inside the node's namespace, so a cut link stops it. A bash loop with curl: cheap enough for many nodes.
 * It logs only when renewals start or stop working.
 */
import { NODE_LEASE_NAMESPACE } from './kube-types.js';
import type { DaemonSpec } from '../daemons.js';
import type { NodeState } from '../state.js';

export const heartbeatRole = (node: string) => `heartbeat:${node}`;
export const HEARTBEAT_OK = 'lease renewed';

/**
 * Every 2 s, but at least 4 renewals per grace period: a short grace (tests use 3 s) must not turn one
 * slow renewal on a loaded machine into a NotReady node. (A kubelet renews at 1/4 of the lease duration.)
 */
export function heartbeatPeriodSeconds(graceSeconds: number): number {
  return Math.max(0.25, Math.min(2, graceSeconds / 4));
}

const SCRIPT = `
set -u
server=$1 node=$2 uid=$3 duration=$4 period=$5
leases="$server/apis/coordination.k8s.io/v1/namespaces/${NODE_LEASE_NAMESPACE}/leases"
state=starting
while :; do
  now=$(date -u +%Y-%m-%dT%H:%M:%S.%6NZ)
  code=$(curl -s -o /dev/null -w '%{http_code}' --connect-timeout 1 --max-time 2 -X PATCH \\
    -H 'Content-Type: application/merge-patch+json' --data "{\\"spec\\":{\\"renewTime\\":\\"$now\\"}}" "$leases/$node")
  if [ "$code" = 404 ]; then
    lease="{\\"apiVersion\\":\\"coordination.k8s.io/v1\\",\\"kind\\":\\"Lease\\",\\"metadata\\":{\\"name\\":\\"$node\\",\\"namespace\\":\\"${NODE_LEASE_NAMESPACE}\\",\\"ownerReferences\\":[{\\"apiVersion\\":\\"v1\\",\\"kind\\":\\"Node\\",\\"name\\":\\"$node\\",\\"uid\\":\\"$uid\\"}]},\\"spec\\":{\\"holderIdentity\\":\\"$node\\",\\"leaseDurationSeconds\\":$duration,\\"renewTime\\":\\"$now\\"}}"
    code=$(curl -s -o /dev/null -w '%{http_code}' --connect-timeout 1 --max-time 2 -X POST \\
      -H 'Content-Type: application/json' --data "$lease" "$leases")
  fi
  case "$code" in
    200|201) [ "$state" = ok ] || echo "$(date -u +%FT%TZ) ${HEARTBEAT_OK} ($node)"; state=ok ;;
    *) [ "$state" = failing ] || echo "$(date -u +%FT%TZ) lease renewal failing ($node, HTTP $code)"; state=failing ;;
  esac
  sleep "$period"
done
`;

export function heartbeatDaemon(node: NodeState, serverUrl: string, nodeUid: string, graceSeconds: number): DaemonSpec {
  const leaseDurationSeconds = Math.max(1, Math.ceil(graceSeconds));
  return {
    role: heartbeatRole(node.name),
    netns: node.netns,
    argv: ['bash', '-c', SCRIPT, 'lab-heartbeat', serverUrl, node.name, nodeUid, String(leaseDurationSeconds), String(heartbeatPeriodSeconds(graceSeconds))],
    readyLogLine: HEARTBEAT_OK,
    readyTimeoutMs: 10_000,
  };
}
