import { ProblemList, type Parsed } from './problems.js';
import type { AllocatorPolicy, Policy, PolicyKind } from './model.js';
import { readBoolean, readInteger, readIp, readIpSpecs, readRecord, readSelector, readString } from './fields.js';
import { parseMeta } from './parse-meta.js';
import { deepFreeze } from './freeze.js';
import { policyKey } from './policy-key.js';
import { parsePolicyStatus } from './parse-status-objects.js';
import { DEST_SUBNET_MAX_ITEMS, POD_SUBNET_MAX_ITEMS } from './limits.js';
import { isDnsSubdomain } from './names.js';

export const PRIORITY_MIN = -1000;
export const PRIORITY_MAX = 1000;

export function parsePolicy(raw: Record<string, unknown>, kind: PolicyKind): Parsed<Policy> {
  const problems = new ProblemList();
  const meta = parseMeta(raw.metadata, problems, kind === 'EgressPolicy');
  const spec = readRecord(raw.spec, 'spec', problems) ?? {};

  // Unset (or ""): the namespace's default gateway, else the cluster default (see planner/default-gateway.ts).
  const gatewayName = readString(spec.egressGatewayName, 'spec.egressGatewayName', problems) ?? '';
  if (gatewayName && !isDnsSubdomain(gatewayName))
    problems.add('InvalidValue', 'spec.egressGatewayName', `${JSON.stringify(gatewayName)} is not an EgressGateway name (a lower-case DNS subdomain)`);

  const egressIP = readRecord(spec.egressIP, 'spec.egressIP', problems) ?? {};
  const ipv4 = readIp(egressIP.ipv4, 'spec.egressIP.ipv4', problems, 4);
  const ipv6 = readIp(egressIP.ipv6, 'spec.egressIP.ipv6', problems, 6);
  const useNodeIP = readBoolean(egressIP.useNodeIP, 'spec.egressIP.useNodeIP', problems) ?? false;
  const allocatorText = readString(egressIP.allocatorPolicy, 'spec.egressIP.allocatorPolicy', problems) ?? 'default';
  if (allocatorText !== 'default' && allocatorText !== 'rr') {
    problems.add('InvalidValue', 'spec.egressIP.allocatorPolicy', `"${allocatorText}" must be "default" or "rr"`);
  }
  if (useNodeIP && (ipv4 || ipv6)) {
    problems.add('Conflict', 'spec.egressIP.useNodeIP', 'cannot be true together with spec.egressIP.ipv4 or ipv6');
  }

  const appliedTo = readRecord(spec.appliedTo, 'spec.appliedTo', problems) ?? {};
  const podSelector = readSelector(appliedTo.podSelector, 'spec.appliedTo.podSelector', problems);
  const hasSubnet = appliedTo.podSubnet !== undefined && appliedTo.podSubnet !== null;
  const podSubnet = readIpSpecs(appliedTo.podSubnet, 'spec.appliedTo.podSubnet', problems, { cidrOnly: true, maxItems: POD_SUBNET_MAX_ITEMS });
  if (podSelector && hasSubnet) {
    problems.add('Conflict', 'spec.appliedTo', 'set podSelector or podSubnet, not both');
  } else if (!podSelector && !hasSubnet) {
    problems.add('Required', 'spec.appliedTo', 'set podSelector or podSubnet to choose the pods');
  } else if (hasSubnet && podSubnet.length === 0 && problems.ok) {
    problems.add('Required', 'spec.appliedTo.podSubnet', 'must list at least one CIDR');
  }
  let namespaceSelector = undefined;
  if (appliedTo.namespaceSelector !== undefined) {
    if (kind === 'EgressPolicy') {
      problems.add('UnknownField', 'spec.appliedTo.namespaceSelector', 'only EgressClusterPolicy selects namespaces; an EgressPolicy applies to its own namespace');
    } else {
      namespaceSelector = readSelector(appliedTo.namespaceSelector, 'spec.appliedTo.namespaceSelector', problems);
    }
  }

  const destSubnet = readIpSpecs(spec.destSubnet, 'spec.destSubnet', problems, { maxItems: DEST_SUBNET_MAX_ITEMS });
  const excludeDestSubnet = readIpSpecs(spec.excludeDestSubnet, 'spec.excludeDestSubnet', problems, { maxItems: DEST_SUBNET_MAX_ITEMS });
  const priority = readInteger(spec.priority, 'spec.priority', problems, PRIORITY_MIN, PRIORITY_MAX) ?? 0;

  const ignored = new ProblemList();
  const status = parsePolicyStatus(raw.status, ignored);
  if (!problems.ok) return { problems: problems.items };
  const policy: Policy = {
    kind,
    name: meta.name,
    namespace: meta.namespace,
    key: policyKey(kind, meta.namespace, meta.name),
    uid: meta.uid,
    creationTimestamp: meta.creationTimestamp,
    generation: meta.generation,
    spec: {
      gatewayName,
      gatewaySource: gatewayName ? 'spec' : 'none',
      ...(ipv4 ? { ipv4 } : {}),
      ...(ipv6 ? { ipv6 } : {}),
      useNodeIP,
      allocatorPolicy: allocatorText as AllocatorPolicy,
      ...(podSelector ? { podSelector } : {}),
      podSubnet,
      ...(namespaceSelector ? { namespaceSelector } : {}),
      destSubnet,
      excludeDestSubnet,
      priority,
    },
    status,
  };
  return { value: deepFreeze(policy), problems: [], ...(ignored.ok ? {} : { ignored: ignored.items }) };
}
