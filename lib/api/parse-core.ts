import { ProblemList, type Parsed } from './problems.js';
import type { NamespaceInfo, NodeInfo, PodInfo } from './model.js';
import { isRecord, readRecord, readString } from './fields.js';
import { parseMeta } from './parse-meta.js';
import { deepFreeze } from './freeze.js';
import { canonicalIp, isIp, parseCidr } from './ip.js';
import { nodeDrain } from './node-drain.js';

const UNREACHABLE_TAINT = 'node.kubernetes.io/unreachable';

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function conditionTrue(conditions: unknown, type: string): boolean {
  return list(conditions).some((c) => isRecord(c) && c.type === type && c.status === 'True');
}

export function parseNode(raw: Record<string, unknown>): Parsed<NodeInfo> {
  const problems = new ProblemList();
  const meta = parseMeta(raw.metadata, problems, false);
  const spec = readRecord(raw.spec, 'spec', problems) ?? {};
  const status = readRecord(raw.status, 'status', problems) ?? {};
  let ipv4: string | undefined;
  let ipv6: string | undefined;
  for (const a of list(status.addresses)) {
    if (!isRecord(a) || a.type !== 'InternalIP' || typeof a.address !== 'string') continue;
    if (!ipv4 && isIp(a.address, 4)) ipv4 = canonicalIp(a.address);
    if (!ipv6 && isIp(a.address, 6)) ipv6 = canonicalIp(a.address);
  }
  const podCIDRs: string[] = [];
  const cidrTexts = Array.isArray(spec.podCIDRs) ? spec.podCIDRs : typeof spec.podCIDR === 'string' ? [spec.podCIDR] : [];
  cidrTexts.forEach((c, i) => {
    try {
      parseCidr(String(c));
      podCIDRs.push(String(c));
    } catch {
      problems.add('InvalidIP', `spec.podCIDRs[${i}]`, `"${String(c)}" is not a CIDR`);
    }
  });
  const unreachable = list(spec.taints).some((t) => isRecord(t) && t.key === UNREACHABLE_TAINT);
  const drain = nodeDrain(raw.metadata, spec.unschedulable);
  if (!problems.ok) return { problems: problems.items };
  return {
    value: deepFreeze({
      name: meta.name,
      labels: meta.labels,
      ready: conditionTrue(status.conditions, 'Ready'),
      unreachable,
      ...(ipv4 ? { ipv4 } : {}),
      ...(ipv6 ? { ipv6 } : {}),
      podCIDRs,
      ...(drain ? { drain } : {}),
    }),
    problems: [],
  };
}

export function parseNamespace(raw: Record<string, unknown>): Parsed<NamespaceInfo> {
  const problems = new ProblemList();
  const meta = parseMeta(raw.metadata, problems, false);
  if (!problems.ok) return { problems: problems.items };
  return { value: deepFreeze({ name: meta.name, labels: { 'kubernetes.io/metadata.name': meta.name, ...meta.labels } }), problems: [] };
}

export function parsePod(raw: Record<string, unknown>): Parsed<PodInfo> {
  const problems = new ProblemList();
  const meta = parseMeta(raw.metadata, problems, true);
  const spec = readRecord(raw.spec, 'spec', problems) ?? {};
  const status = readRecord(raw.status, 'status', problems) ?? {};
  const ips = new Set<string>();
  const podIP = readString(status.podIP, 'status.podIP', problems);
  if (podIP && isIp(podIP)) ips.add(canonicalIp(podIP));
  for (const p of list(status.podIPs)) {
    if (isRecord(p) && typeof p.ip === 'string' && isIp(p.ip)) ips.add(canonicalIp(p.ip));
  }
  const all = [...ips].sort();
  const metaRec = isRecord(raw.metadata) ? raw.metadata : {};
  const eligible =
    status.phase === 'Running' && conditionTrue(status.conditions, 'Ready') && spec.hostNetwork !== true && metaRec.deletionTimestamp === undefined && all.length > 0;
  if (!problems.ok) return { problems: problems.items };
  return {
    value: deepFreeze({
      namespace: meta.namespace,
      name: meta.name,
      node: typeof spec.nodeName === 'string' ? spec.nodeName : '',
      labels: meta.labels,
      ipv4: all.filter((ip) => isIp(ip, 4)),
      ipv6: all.filter((ip) => isIp(ip, 6)),
      eligible,
    }),
    problems: [],
  };
}
