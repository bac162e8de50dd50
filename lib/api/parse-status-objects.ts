/**
 * Parsers of the objects sluice itself writes: endpoint slices, tunnels, cluster info, and the
 * status of policies. Any agent may write some of them (RBAC cannot narrow status writes to one
 * node), so they are input like any other: a field that does not validate is left out of the
 * model and reported in `ignored`; the rest of the object is used.
 */
import { ProblemList, type Parsed } from './problems.js';
import type { ClusterInfo, EipConflictReport, LanLink, Endpoint, EndpointSlice, PolicyStatus, Tunnel } from './model.js';
import { isRecord, readBoolean, readIpSpecs, readRecord, readString } from './fields.js';
import { parseMeta } from './parse-meta.js';
import { deepFreeze } from './freeze.js';
import { exactList } from './exact-list.js';
import { canonicalIp, formatInterval, isIp, parseIp, parseIpSpec, type Family } from './ip.js';
import { CLUSTER_FIREWALL_LABEL, CLUSTER_POLICY_LABEL, EIP_CONFLICTS_ANNOTATION, FIREWALL_LABEL, LAN_ANNOTATION, POLICY_LABEL } from './group.js';
import { firewallKey, policyKey } from './policy-key.js';
import { INTERFACE_NAME_RULE, isDnsLabel, isDnsSubdomain, isInterfaceName } from './names.js';
import { CLUSTER_STATUS_MAX_ITEMS, EIP_CONFLICTS_MAX, ENDPOINT_MAX_IPS, EXTRA_CIDR_MAX_ITEMS, SLICE_MAX_ENDPOINTS } from './limits.js';
import { errorMessage } from '../errors.js';

/** spidernet's phases; `NotReady` is what older sluice controllers wrote for `NodeNotReady`, still accepted. */
export const TUNNEL_PHASES = ['Pending', 'Init', 'Ready', 'NodeNotReady', 'NotReady', 'Failed', 'HeartbeatTimeout'] as const;
/** A mark index is shifted into a 32-bit mark; the planner bounds it by the configured mask. */
export const MARK_INDEX_MAX = 0xffffffff;
const UNICAST_MAC = /^[0-9a-f][02468ace](:[0-9a-f]{2}){5}$/;
const ZERO_MAC = '00:00:00:00:00:00';

/**
 * Reads one optional string field of controller-written data: absent, null and "" mean unset; a
 * value `check` rejects (it returns a message) is recorded in `ignored` and reads as unset.
 */
function optionalText(value: unknown, path: string, ignored: ProblemList, check: (text: string) => string | undefined, emptyIsUnset = true): string | undefined {
  if (value === undefined || value === null || (value === '' && emptyIsUnset)) return undefined;
  if (typeof value !== 'string') {
    ignored.add('InvalidType', path, 'must be a string; ignored');
    return undefined;
  }
  const why = check(value);
  if (why === undefined) return value;
  const shown = value.length > 64 ? `${JSON.stringify(value.slice(0, 64))}…` : JSON.stringify(value);
  ignored.add('InvalidValue', path, `${shown} ${why}; ignored`);
  return undefined;
}

function optionalIp(value: unknown, path: string, ignored: ProblemList, family: Family): string | undefined {
  let canonical: string | undefined;
  optionalText(value, path, ignored, (text) => {
    try {
      const ip = parseIp(text);
      if (ip.family !== family) return `is not an IPv${family} address`;
      canonical = canonicalIp(text);
      return undefined;
    } catch (err) {
      return errorMessage(err).replace(/^"[^"]*" /, '');
    }
  });
  return canonical;
}

function optionalRecord(value: unknown, path: string, ignored: ProblemList): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (isRecord(value)) return value;
  ignored.add('InvalidType', path, 'must be an object; ignored');
  return {};
}

/** A list of strings each `read` accepts (returning canonical text); bad entries are dropped and reported. */
function optionalList(value: unknown, path: string, ignored: ProblemList, maxItems: number, read: (text: string) => string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    ignored.add('InvalidType', path, 'must be a list; ignored');
    return [];
  }
  if (value.length > maxItems) ignored.add('InvalidValue', path, `has more than ${maxItems} items`);
  const out: string[] = [];
  value.forEach((item, i) => {
    if (typeof item !== 'string') return ignored.add('InvalidType', `${path}[${i}]`, 'must be a string; ignored');
    try {
      out.push(read(item));
    } catch (err) {
      ignored.add('InvalidIP', `${path}[${i}]`, `${errorMessage(err)}; ignored`);
    }
  });
  return out;
}

function ofFamily(family: Family, text: string, iv: { family: Family }): void {
  if (iv.family !== family) throw new Error(`${JSON.stringify(text)} is not IPv${family}`);
}

function withIgnored<T>(value: T, ignored: ProblemList): Parsed<T> {
  return { value: deepFreeze(value), problems: [], ...(ignored.ok ? {} : { ignored: ignored.items }) };
}

export function parseEndpointSlice(raw: Record<string, unknown>, clusterScoped: boolean): Parsed<EndpointSlice> {
  const problems = new ProblemList();
  const ignored = new ProblemList();
  const meta = parseMeta(raw.metadata, problems, !clusterScoped);
  const label = clusterScoped ? CLUSTER_POLICY_LABEL : POLICY_LABEL;
  const firewallLabel = clusterScoped ? CLUSTER_FIREWALL_LABEL : FIREWALL_LABEL;
  const policyName = meta.labels[label];
  const firewallName = meta.labels[firewallLabel];
  if (!policyName && !firewallName) problems.add('Required', `metadata.labels["${label}"]`, `names the policy (or, as "${firewallLabel}", the firewall) this slice belongs to`);
  if (policyName && firewallName) problems.add('Conflict', `metadata.labels["${firewallLabel}"]`, 'a slice belongs to a policy or to a firewall, not both');
  const endpoints: Endpoint[] = [];
  const rawEndpoints = raw.endpoints === undefined || raw.endpoints === null ? [] : raw.endpoints;
  if (!Array.isArray(rawEndpoints)) ignored.add('InvalidType', 'endpoints', 'must be a list; ignored');
  else if (rawEndpoints.length > SLICE_MAX_ENDPOINTS) ignored.add('InvalidValue', 'endpoints', `has more than ${SLICE_MAX_ENDPOINTS} items`);
  (Array.isArray(rawEndpoints) ? rawEndpoints : []).forEach((e, i) => {
    const p = `endpoints[${i}]`;
    if (!isRecord(e)) return ignored.add('InvalidType', p, 'must be an object; ignored');
    const name = (key: string, valid: (t: string) => boolean) => optionalText(e[key], `${p}.${key}`, ignored, (t) => (valid(t) ? undefined : 'is not a valid name'));
    const namespace = name('ns', isDnsLabel);
    const pod = name('pod', isDnsSubdomain);
    const node = name('node', isDnsSubdomain);
    const ips = (key: string, family: Family) =>
      exactList(
        optionalList(e[key], `${p}.${key}`, ignored, ENDPOINT_MAX_IPS, (text) => {
          const ip = parseIp(text);
          ofFamily(family, text, ip);
          return canonicalIp(text);
        }).sort(),
      );
    const ipv4 = ips('ipv4', 4);
    const ipv6 = ips('ipv6', 6);
    if (namespace === undefined || pod === undefined || node === undefined) {
      return ignored.add('Required', p, 'needs ns, pod and node; the endpoint is ignored');
    }
    endpoints.push({ namespace, pod, node, ipv4, ipv6 });
  });
  if (!problems.ok) return { problems: problems.items };
  if (firewallName) {
    const key = firewallKey(clusterScoped ? 'EgressClusterFirewall' : 'EgressFirewall', meta.namespace, firewallName);
    return withIgnored({ name: meta.name, namespace: meta.namespace, policyKey: '', firewallKey: key, endpoints: exactList(endpoints) }, ignored);
  }
  if (!policyName) return { problems: problems.items };
  const kind = clusterScoped ? 'EgressClusterPolicy' : 'EgressPolicy';
  return withIgnored({ name: meta.name, namespace: meta.namespace, policyKey: policyKey(kind, meta.namespace, policyName), endpoints: exactList(endpoints) }, ignored);
}

/**
 * The EgressTunnel's eip-conflicts annotation: `ip=mac` entries, comma-separated. Any agent may
 * write any tunnel's annotations, so every entry is checked (a canonical unicast-looking address,
 * a lower-case unicast MAC) and the planner counts an entry only from a node that may carry it.
 */
function readEipConflicts(raw: Record<string, unknown>, ignored: ProblemList): EipConflictReport[] {
  const meta = isRecord(raw.metadata) ? raw.metadata : {};
  const annotations = isRecord(meta.annotations) ? meta.annotations : {};
  const path = `metadata.annotations["${EIP_CONFLICTS_ANNOTATION}"]`;
  const text = optionalText(annotations[EIP_CONFLICTS_ANNOTATION], path, ignored, () => undefined);
  if (text === undefined) return [];
  const entries = text.split(',');
  if (entries.length > EIP_CONFLICTS_MAX) ignored.add('InvalidValue', path, `has more than ${EIP_CONFLICTS_MAX} entries; the rest are ignored`);
  const out: EipConflictReport[] = [];
  for (const entry of entries.slice(0, EIP_CONFLICTS_MAX)) {
    const [ip, mac, extra] = entry.split('=');
    const why =
      ip === undefined || mac === undefined || extra !== undefined
        ? 'is not ip=mac'
        : !isIp(ip) || canonicalIp(ip) !== ip
          ? 'is not a canonical IP address'
          : !UNICAST_MAC.test(mac) || mac === ZERO_MAC
            ? 'does not name a lower-case unicast MAC'
            : undefined;
    if (why) ignored.add('InvalidValue', path, `${JSON.stringify(entry.slice(0, 80))} ${why}; ignored`);
    else out.push({ ip: ip!, mac: mac! });
  }
  return out;
}

/**
 * The EgressTunnel's lan annotation (LAN_ANNOTATION): a lower-case unicast MAC, then at most one
 * `ip/prefix` per family. Any agent may write any tunnel's annotations: a value that does not
 * read whole is ignored whole (the node then has no native-routing path).
 */
function readLan(raw: Record<string, unknown>, ignored: ProblemList): LanLink | undefined {
  const meta = isRecord(raw.metadata) ? raw.metadata : {};
  const annotations = isRecord(meta.annotations) ? meta.annotations : {};
  const path = `metadata.annotations["${LAN_ANNOTATION}"]`;
  const text = optionalText(annotations[LAN_ANNOTATION], path, ignored, () => undefined);
  if (text === undefined) return undefined;
  const [mac, ...addresses] = text.trim().split(/ +/);
  const families = new Set<Family>();
  const addressProblem = (a: string): string | undefined => {
    const [ip, prefix, extra] = a.split('/');
    if (ip === undefined || prefix === undefined || extra !== undefined || !isIp(ip) || canonicalIp(ip) !== ip) return `${JSON.stringify(a.slice(0, 60))} is not ip/prefix`;
    const family = parseIp(ip).family;
    if (!/^[0-9]{1,3}$/.test(prefix) || Number(prefix) > (family === 4 ? 32 : 128)) return `${JSON.stringify(a.slice(0, 60))} has no valid prefix length`;
    if (families.has(family)) return `lists two IPv${family} addresses`;
    families.add(family);
    return undefined;
  };
  const why =
    mac === undefined || !UNICAST_MAC.test(mac) || mac === ZERO_MAC
      ? 'does not start with a lower-case unicast MAC'
      : addresses.length === 0
        ? 'lists no address'
        : addresses.map(addressProblem).find((p) => p !== undefined);
  if (why) {
    ignored.add('InvalidValue', path, `${why}; ignored`);
    return undefined;
  }
  return { mac: mac!, addresses };
}

export function parseTunnel(raw: Record<string, unknown>): Parsed<Tunnel> {
  const problems = new ProblemList();
  const ignored = new ProblemList();
  const meta = parseMeta(raw.metadata, problems, false);
  const status = optionalRecord(raw.status, 'status', ignored);
  const tunnel = optionalRecord(status.tunnel, 'status.tunnel', ignored);
  const parent = optionalRecord(tunnel.parent, 'status.tunnel.parent', ignored);
  const mark = optionalText(status.mark, 'status.mark', ignored, (t) =>
    /^[1-9][0-9]{0,9}$/.test(t) && Number(t) <= MARK_INDEX_MAX ? undefined : `is not a mark index (a decimal number from 1 to ${MARK_INDEX_MAX})`,
  );
  const fields = {
    ipv4: optionalIp(tunnel.ipv4, 'status.tunnel.ipv4', ignored, 4),
    ipv6: optionalIp(tunnel.ipv6, 'status.tunnel.ipv6', ignored, 6),
    mac: optionalText(tunnel.mac, 'status.tunnel.mac', ignored, (t) => (UNICAST_MAC.test(t) && t !== ZERO_MAC ? undefined : 'is not a lower-case unicast MAC address')),
    parentName: optionalText(parent.name, 'status.tunnel.parent.name', ignored, (t) => (isInterfaceName(t) ? undefined : `is not an interface name (${INTERFACE_NAME_RULE})`)),
    parentIpv4: optionalIp(parent.ipv4, 'status.tunnel.parent.ipv4', ignored, 4),
    parentIpv6: optionalIp(parent.ipv6, 'status.tunnel.parent.ipv6', ignored, 6),
    markIndex: mark === undefined ? undefined : Number(mark),
    phase: optionalText(
      status.phase,
      'status.phase',
      ignored,
      (t) => ((TUNNEL_PHASES as readonly string[]).includes(t) ? undefined : `is not one of ${TUNNEL_PHASES.join(', ')}`),
      false,
    ),
  };
  const eipConflicts = readEipConflicts(raw, ignored);
  const lan = readLan(raw, ignored);
  if (!problems.ok) return { problems: problems.items };
  const defined = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
  // the planner reports what it did not use, and what it uses instead, in every plan
  return withIgnored(
    { node: meta.name, ...defined, ...(lan ? { lan } : {}), ...(eipConflicts.length ? { eipConflicts } : {}), ...(ignored.ok ? {} : { ignored: ignored.items }) } as Tunnel,
    ignored,
  );
}

/** status of EgressPolicy / EgressClusterPolicy: what the controller assigned. */
export function parsePolicyStatus(raw: unknown, ignored: ProblemList): PolicyStatus {
  const status = optionalRecord(raw, 'status', ignored);
  const eip = optionalRecord(status.eip, 'status.eip', ignored);
  const eipV4 = optionalIp(eip.ipv4, 'status.eip.ipv4', ignored, 4);
  const eipV6 = optionalIp(eip.ipv6, 'status.eip.ipv6', ignored, 6);
  const node = optionalText(status.node, 'status.node', ignored, (t) => (isDnsSubdomain(t) ? undefined : 'is not a node name'));
  return { ...(eipV4 ? { eipV4 } : {}), ...(eipV6 ? { eipV6 } : {}), ...(node ? { node } : {}) };
}

function readClusterStatus(raw: Record<string, unknown>, ignored: ProblemList): NonNullable<ClusterInfo['status']> {
  const byFamily = (key: string): string[] => {
    const rec = optionalRecord(raw[key], `status.${key}`, ignored);
    const read = (family: Family) => (text: string) => {
      if (text.includes('-')) throw new Error(`${JSON.stringify(text)} is a range; only addresses and CIDRs belong here`);
      const iv = parseIpSpec(text);
      ofFamily(family, text, iv);
      return formatInterval(iv);
    };
    return [4, 6].flatMap((family) => optionalList(rec[`ipv${family}`], `status.${key}.ipv${family}`, ignored, CLUSTER_STATUS_MAX_ITEMS, read(family as Family)));
  };
  return {
    podCIDR: byFamily('podCIDR'),
    clusterIP: byFamily('clusterIP'),
    nodeIP: byFamily('nodeIP'),
    extraCidr: optionalList(raw.extraCidr, 'status.extraCidr', ignored, EXTRA_CIDR_MAX_ITEMS, (text) => formatInterval(parseIpSpec(text))),
  };
}

export function parseClusterInfo(raw: Record<string, unknown>): Parsed<ClusterInfo> {
  const problems = new ProblemList();
  const ignored = new ProblemList();
  parseMeta(raw.metadata, problems, false);
  const spec = readRecord(raw.spec, 'spec', problems) ?? {};
  const auto = readRecord(spec.autoDetect, 'spec.autoDetect', problems) ?? {};
  const mode = readString(auto.podCidrMode, 'spec.autoDetect.podCidrMode', problems) ?? 'k8s';
  if (!['k8s', 'auto', 'none'].includes(mode)) problems.add('InvalidValue', 'spec.autoDetect.podCidrMode', `${JSON.stringify(mode)} must be k8s, auto or none`);
  const detectClusterIP = readBoolean(auto.clusterIP, 'spec.autoDetect.clusterIP', problems) ?? true;
  const detectNodeIP = readBoolean(auto.nodeIP, 'spec.autoDetect.nodeIP', problems) ?? true;
  const extraCidr = readIpSpecs(spec.extraCidr, 'spec.extraCidr', problems, { maxItems: EXTRA_CIDR_MAX_ITEMS });
  const status = raw.status === undefined || raw.status === null ? undefined : optionalRecord(raw.status, 'status', ignored);
  const statusValue = status ? readClusterStatus(status, ignored) : undefined;
  if (!problems.ok) return { problems: problems.items };
  return withIgnored(
    {
      podCidrMode: mode as ClusterInfo['podCidrMode'],
      detectClusterIP,
      detectNodeIP,
      extraCidr,
      ...(statusValue ? { status: statusValue } : {}),
    },
    ignored,
  );
}
