/** Parsers of the objects sluice itself writes: endpoint slices, tunnels, cluster info. */
import { ProblemList, type Parsed } from './problems.js';
import type { ClusterInfo, Endpoint, EndpointSlice, Tunnel } from './model.js';
import { isRecord, readBoolean, readIp, readIpSpecs, readRecord, readString, readStringArray } from './fields.js';
import { parseMeta } from './parse-meta.js';
import { deepFreeze } from './freeze.js';
import { canonicalIp, isIp } from './ip.js';
import { CLUSTER_POLICY_LABEL, POLICY_LABEL } from './group.js';
import { policyKey } from './parse-policy.js';

const MAC = /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i;

export function parseEndpointSlice(raw: Record<string, unknown>, clusterScoped: boolean): Parsed<EndpointSlice> {
  const problems = new ProblemList();
  const meta = parseMeta(raw.metadata, problems, !clusterScoped);
  const label = clusterScoped ? CLUSTER_POLICY_LABEL : POLICY_LABEL;
  const policyName = meta.labels[label];
  if (!policyName) problems.add('Required', `metadata.labels["${label}"]`, 'names the policy this slice belongs to');
  const endpoints: Endpoint[] = [];
  const rawEndpoints = Array.isArray(raw.endpoints) ? raw.endpoints : [];
  rawEndpoints.forEach((e, i) => {
    const p = `endpoints[${i}]`;
    if (!isRecord(e)) return problems.add('InvalidType', p, 'must be an object');
    const ips = (key: string, family: 4 | 6) =>
      readStringArray(e[key], `${p}.${key}`, problems).filter((ip) => isIp(ip, family)).map(canonicalIp).sort();
    endpoints.push({
      namespace: readString(e.ns, `${p}.ns`, problems) ?? '',
      pod: readString(e.pod, `${p}.pod`, problems) ?? '',
      node: readString(e.node, `${p}.node`, problems) ?? '',
      ipv4: ips('ipv4', 4),
      ipv6: ips('ipv6', 6),
    });
  });
  if (!problems.ok || !policyName) return { problems: problems.items };
  const kind = clusterScoped ? 'EgressClusterPolicy' : 'EgressPolicy';
  return {
    value: deepFreeze({ name: meta.name, namespace: meta.namespace, policyKey: policyKey(kind, meta.namespace, policyName), endpoints }),
    problems: [],
  };
}

export function parseTunnel(raw: Record<string, unknown>): Parsed<Tunnel> {
  const problems = new ProblemList();
  const meta = parseMeta(raw.metadata, problems, false);
  const scratch = new ProblemList();
  const status = readRecord(raw.status, 'status', scratch) ?? {};
  const tunnel = readRecord(status.tunnel, 'status.tunnel', scratch) ?? {};
  const parent = readRecord(tunnel.parent, 'status.tunnel.parent', scratch) ?? {};
  const mac = readString(tunnel.mac, 'status.tunnel.mac', scratch);
  const markText = readString(status.mark, 'status.mark', scratch);
  const markIndex = markText && /^\d+$/.test(markText) ? Number(markText) : undefined;
  const fields = {
    ipv4: readIp(tunnel.ipv4, '', scratch, 4),
    ipv6: readIp(tunnel.ipv6, '', scratch, 6),
    mac: mac && MAC.test(mac) ? mac.toLowerCase() : undefined,
    parentName: readString(parent.name, '', scratch),
    parentIpv4: readIp(parent.ipv4, '', scratch, 4),
    parentIpv6: readIp(parent.ipv6, '', scratch, 6),
    markIndex: markIndex !== undefined && markIndex >= 1 ? markIndex : undefined,
    phase: readString(status.phase, '', scratch),
  };
  if (!problems.ok) return { problems: problems.items };
  const defined = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined && v !== ''));
  return { value: deepFreeze({ node: meta.name, ...defined } as Tunnel), problems: [] };
}

export function parseClusterInfo(raw: Record<string, unknown>): Parsed<ClusterInfo> {
  const problems = new ProblemList();
  parseMeta(raw.metadata, problems, false);
  const spec = readRecord(raw.spec, 'spec', problems) ?? {};
  const auto = readRecord(spec.autoDetect, 'spec.autoDetect', problems) ?? {};
  const mode = readString(auto.podCidrMode, 'spec.autoDetect.podCidrMode', problems) ?? 'k8s';
  if (!['k8s', 'auto', 'none'].includes(mode)) problems.add('InvalidValue', 'spec.autoDetect.podCidrMode', `"${mode}" must be k8s, auto or none`);
  const detectClusterIP = readBoolean(auto.clusterIP, 'spec.autoDetect.clusterIP', problems) ?? true;
  const detectNodeIP = readBoolean(auto.nodeIP, 'spec.autoDetect.nodeIP', problems) ?? true;
  const extraCidr = readIpSpecs(spec.extraCidr, 'spec.extraCidr', problems);
  const scratch = new ProblemList();
  const status = isRecord(raw.status) ? raw.status : undefined;
  const both = (v: unknown) => {
    const r = readRecord(v, '', scratch) ?? {};
    return [...readStringArray(r.ipv4, '', scratch), ...readStringArray(r.ipv6, '', scratch)];
  };
  if (!problems.ok) return { problems: problems.items };
  return {
    value: deepFreeze({
      podCidrMode: mode as ClusterInfo['podCidrMode'],
      detectClusterIP,
      detectNodeIP,
      extraCidr,
      ...(status
        ? {
            status: {
              podCIDR: both(status.podCIDR),
              clusterIP: both(status.clusterIP),
              nodeIP: both(status.nodeIP),
              extraCidr: readStringArray(status.extraCidr, '', scratch),
            },
          }
        : {}),
    }),
    problems: [],
  };
}
