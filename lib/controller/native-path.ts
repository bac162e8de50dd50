import type { Gateway, Policy } from '../api/model.js';
import type { Assignment } from '../planner/assign.js';
import type { DesiredCondition } from '../kube/conditions.js';
import { nativeNodes, segmentProblem } from '../planner/native.js';
import type { NodeDirectoryEntry } from '../planner/resolve.js';
import type { Snapshot } from '../planner/snapshot.js';

/** The reasons of the NativePath condition (docs/errors.md lists them). */
export const NATIVE_PATH_REASONS = ['OnSegment', 'NotOnSegment', 'ReachedByVxlan'] as const;

/**
 * `NativePath` of a policy whose EgressGateway asks for `transport: native` (absent otherwise):
 * True while every node with selected pods is on the LAN segment of the node carrying it; False
 * `NotOnSegment` naming the nodes that are not (their agents drop those pods' packets: see the
 * planner's notice), or `ReachedByVxlan` when gateways of both transports select the carrier.
 */
export function nativePathCondition(
  policy: Policy,
  a: Assignment,
  snapshot: Pick<Snapshot, 'nodes' | 'gateways'>,
  directory: ReadonlyMap<string, NodeDirectoryEntry>,
  podNodes: ReadonlySet<string>,
  native: ReadonlySet<string> = nativeNodes(snapshot.nodes, snapshot.gateways).nodes,
): DesiredCondition | undefined {
  const gateway: Gateway | undefined = snapshot.gateways.find((g) => g.name === a.gatewayName);
  if (gateway?.transport !== 'native' || !a.active || !a.node) return undefined;
  const observedGeneration = policy.generation;
  const carrier = directory.get(a.node);
  if (!native.has(a.node) || !carrier) {
    return {
      type: 'NativePath',
      status: 'False',
      reason: 'ReachedByVxlan',
      message: `gateways of both transports select node "${a.node}": workers reach it by VXLAN`,
      observedGeneration,
    };
  }
  const off: string[] = [];
  let why = '';
  for (const name of [...podNodes].sort()) {
    const d = directory.get(name);
    if (name === a.node) continue;
    // on the segment in either family: the planner routes each family it shares (IPv6-only clusters too)
    const problems = d ? ([4, 6] as const).map((f) => segmentProblem(d, carrier, f)) : [`node "${name}" is unknown`];
    const problem = problems.includes(undefined) ? undefined : problems[0];
    if (problem === undefined) continue;
    off.push(name);
    why ||= problem;
  }
  if (off.length === 0) {
    return { type: 'NativePath', status: 'True', reason: 'OnSegment', message: `every node with selected pods routes to node "${a.node}" natively`, observedGeneration };
  }
  const names =
    off
      .slice(0, 10)
      .map((n) => `"${n}"`)
      .join(', ') + (off.length > 10 ? ` and ${off.length - 10} more` : '');
  return {
    type: 'NativePath',
    status: 'False',
    reason: 'NotOnSegment',
    message: `nodes ${names} are not on the LAN segment of node "${a.node}" (${why}): their selected pods' traffic is dropped`,
    observedGeneration,
  };
}
