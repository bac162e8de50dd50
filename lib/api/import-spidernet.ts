/**
 * spidernet EgressGateway objects (`egressgateway.spidernet.io`) to sluice's, as `kubectl get
 * -o yaml` exports them: the kinds and field names are the same, so most of the work is taking
 * out what must not be applied again (server-owned metadata, finalizers nothing would remove,
 * owner references to objects that will not exist, status, the kinds the controller writes) and
 * mapping the few values sluice spells differently. Pure: the CLI validates the result.
 */
import { API_VERSION, DEFAULT_GATEWAY_LABEL, KINDS, type EgressKind } from './group.js';
import { isRecord } from './fields.js';
import { formatInterval, parseCidr } from './ip.js';
import { isDnsLabel, isDnsSubdomain } from './names.js';

const SPIDERNET_GROUP = 'egressgateway.spidernet.io';
/** spidernet's namespace label naming the default gateway; sluice's is DEFAULT_GATEWAY_LABEL. */
const SPIDERNET_DEFAULT_LABEL = 'spidernet.io/egressgateway-default';

/** Written by spidernet's (and sluice's) controller: sluice writes its own from the policies. */
const CONTROLLER_OWNED = new Set(['EgressEndpointSlice', 'EgressClusterEndpointSlice', 'EgressTunnel', 'EgressNode', 'EgressGatewayNode']);
const CONVERTIBLE = new Set<string>(KINDS.filter((k) => !CONTROLLER_OWNED.has(k)));
const CLUSTER_SCOPED = new Set<string>(['EgressGateway', 'EgressClusterPolicy', 'EgressClusterInfo']);

/** Boolean fields; YAML 1.1 readers (kubectl) took `yes`/`on`/… in them for booleans. */
const BOOLEAN_FIELDS: Partial<Record<EgressKind, readonly string[]>> = {
  EgressGateway: ['spec.clusterDefault'],
  EgressPolicy: ['spec.egressIP.useNodeIP'],
  EgressClusterPolicy: ['spec.egressIP.useNodeIP'],
  EgressClusterInfo: ['spec.autoDetect.clusterIP', 'spec.autoDetect.nodeIP'],
};
const YAML11_TRUE = new Set(['y', 'yes', 'on', 'true']);
const YAML11_FALSE = new Set(['n', 'no', 'off', 'false']);

const DROPPED_ANNOTATIONS = new Set(['kubectl.kubernetes.io/last-applied-configuration']);

export interface ImportSource {
  /** `file:document`, for messages. */
  readonly where: string;
  readonly body: unknown;
}

type ImportOutcome =
  /** A spidernet object, converted. */
  | 'converted'
  /** Not a spidernet object: passed through unchanged. */
  | 'passed'
  /** A kind the controller writes: left out, sluice's controller writes its own. */
  | 'dropped'
  /** Could not be converted: left out, and the import fails. */
  | 'failed';

export interface ImportedDocument {
  readonly where: string;
  /** `Kind "namespace/name"` or `Kind "name"`. */
  readonly object: string;
  readonly outcome: ImportOutcome;
  readonly body?: Record<string, unknown>;
  /** What changed, why it was left out, or why it could not be converted. */
  readonly notes: readonly string[];
}

type Obj = Record<string, unknown>;

function path(obj: Obj, dotted: string): { parent: Obj; key: string } | undefined {
  const parts = dotted.split('.');
  let cur: unknown = obj;
  for (const p of parts.slice(0, -1)) {
    if (!isRecord(cur)) return undefined;
    cur = cur[p];
  }
  return isRecord(cur) ? { parent: cur, key: parts[parts.length - 1]! } : undefined;
}

function objectName(kind: string, meta: unknown): string {
  const m = isRecord(meta) ? meta : {};
  const name = typeof m.name === 'string' ? m.name : '';
  const ns = typeof m.namespace === 'string' && !CLUSTER_SCOPED.has(kind) ? `${m.namespace}/` : '';
  return `${kind || 'document'} "${ns}${name}"`;
}

function isSpidernet(body: Obj): boolean {
  return typeof body.apiVersion === 'string' && body.apiVersion.startsWith(`${SPIDERNET_GROUP}/`);
}

/** Facts that span documents: the cluster-default gateway(s). */
interface ExportContext {
  readonly clusterDefaults: readonly string[];
}

function exportContext(sources: readonly ImportSource[]): ExportContext {
  const clusterDefaults: string[] = [];
  for (const s of sources) {
    if (!isRecord(s.body) || !isSpidernet(s.body) || s.body.kind !== 'EgressGateway') continue;
    const spec = isRecord(s.body.spec) ? s.body.spec : {};
    const meta = isRecord(s.body.metadata) ? s.body.metadata : {};
    if (asBoolean(spec.clusterDefault) === true && typeof meta.name === 'string') clusterDefaults.push(meta.name);
  }
  return { clusterDefaults };
}

function asBoolean(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value !== 'string') return undefined;
  if (YAML11_TRUE.has(value.toLowerCase())) return true;
  if (YAML11_FALSE.has(value.toLowerCase())) return false;
  return undefined;
}

/** Converts every document; the result keeps the input's order. */
export function importSpidernet(sources: readonly ImportSource[]): ImportedDocument[] {
  const ctx = exportContext(sources);
  return sources.map((s) => importOne(s, ctx));
}

function importOne(source: ImportSource, ctx: ExportContext): ImportedDocument {
  const { where, body } = source;
  if (!isRecord(body)) return { where, object: 'document', outcome: 'failed', notes: ['not a Kubernetes object'] };
  const kind = typeof body.kind === 'string' ? body.kind : '';
  const object = objectName(kind, body.metadata);
  if (!isSpidernet(body)) return { where, object, outcome: 'passed', body, notes: [`not a ${SPIDERNET_GROUP} object: passed through unchanged`, ...namespaceDefaultNote(body)] };
  if (CONTROLLER_OWNED.has(kind)) {
    return { where, object, outcome: 'dropped', notes: [`left out: the controller writes ${kind} objects (sluice's writes its own from the policies)`] };
  }
  if (!CONVERTIBLE.has(kind)) return { where, object, outcome: 'failed', notes: [`sluice has no ${kind}`] };

  const notes: string[] = [];
  const failures: string[] = [];
  const copy = structuredClone(body) as Obj;
  copy.apiVersion = API_VERSION;
  copy.metadata = cleanMetadata(kind, copy.metadata, notes);
  if ('status' in copy) {
    delete copy.status;
    notes.push('dropped status (the controller writes it)');
  }
  for (const field of BOOLEAN_FIELDS[kind as EgressKind] ?? []) booleanField(copy, field, notes, failures);

  switch (kind as EgressKind) {
    case 'EgressGateway':
      convertGateway(copy, notes);
      break;
    case 'EgressPolicy':
    case 'EgressClusterPolicy':
      convertPolicy(copy, ctx, notes);
      break;
    case 'EgressClusterInfo':
      convertClusterInfo(copy, body, notes, failures);
      break;
    default:
      break;
  }
  if (failures.length > 0) return { where, object, outcome: 'failed', notes: [...notes, ...failures] };
  return { where, object, outcome: 'converted', body: copy, notes };
}

/** A Namespace naming spidernet's default gateway: the command that names it for sluice. */
function namespaceDefaultNote(body: Obj): string[] {
  const meta = isRecord(body.metadata) ? body.metadata : {};
  const labels = isRecord(meta.labels) ? meta.labels : {};
  const gateway = labels[SPIDERNET_DEFAULT_LABEL];
  if (body.kind !== 'Namespace' || typeof gateway !== 'string' || typeof meta.name !== 'string' || labels[DEFAULT_GATEWAY_LABEL] === gateway) return [];
  // printed as a command to copy: only names that cannot carry shell syntax
  if (!isDnsSubdomain(gateway) || !isDnsLabel(meta.name)) return [];
  return [`its label ${SPIDERNET_DEFAULT_LABEL}=${gateway} is spidernet's; for sluice: kubectl label namespace ${meta.name} ${DEFAULT_GATEWAY_LABEL}=${gateway}`];
}

/** Only what a user wrote: name, namespace, labels and annotations (without kubectl's copy of the last apply). */
function cleanMetadata(kind: string, meta: unknown, notes: string[]): Obj {
  const m = isRecord(meta) ? meta : {};
  const out: Obj = {};
  if (typeof m.name === 'string') out.name = m.name;
  if (typeof m.namespace === 'string' && !CLUSTER_SCOPED.has(kind)) out.namespace = m.namespace;
  if (isRecord(m.labels) && Object.keys(m.labels).length > 0) out.labels = { ...m.labels };
  if (isRecord(m.annotations)) {
    const kept = Object.fromEntries(Object.entries(m.annotations).filter(([k]) => !DROPPED_ANNOTATIONS.has(k)));
    if (Object.keys(kept).length > 0) out.annotations = kept;
  }
  if (Array.isArray(m.finalizers) && m.finalizers.length > 0)
    notes.push(`dropped finalizers ${m.finalizers.join(', ')} (nothing in sluice would remove them, and the object could never be deleted)`);
  if (Array.isArray(m.ownerReferences) && m.ownerReferences.length > 0) notes.push("dropped ownerReferences (their owners' uids do not exist in the new group)");
  return out;
}

function booleanField(obj: Obj, field: string, notes: string[], failures: string[]): void {
  const at = path(obj, field);
  if (!at || !(at.key in at.parent) || typeof at.parent[at.key] === 'boolean') return;
  const value = at.parent[at.key];
  const b = asBoolean(value);
  if (b === undefined) {
    failures.push(`${field}: ${JSON.stringify(value)} is not a boolean`);
    return;
  }
  at.parent[at.key] = b;
  notes.push(`${field}: the string ${JSON.stringify(value)} written as ${b} (YAML 1.1 readers such as kubectl read it so)`);
}

function convertGateway(gw: Obj, notes: string[]): void {
  const spec = isRecord(gw.spec) ? gw.spec : {};
  const selector = isRecord(spec.nodeSelector) ? spec.nodeSelector : undefined;
  if (selector && 'policy' in selector) {
    notes.push(`dropped spec.nodeSelector.policy ${JSON.stringify(selector.policy)}: sluice spreads EIPs over the selected nodes by rendezvous hashing`);
    delete selector.policy;
  }
  const pools = isRecord(spec.ippools) ? spec.ippools : undefined;
  for (const family of ['ipv4', 'ipv6'] as const) {
    const list = pools?.[family];
    if (!Array.isArray(list)) continue;
    pools![family] = list.map((entry: unknown, i) => {
      if (typeof entry !== 'string' || !entry.includes('/')) return entry;
      let canonical: string;
      try {
        canonical = formatInterval(parseCidr(entry, false));
      } catch {
        return entry; // validation reports it
      }
      if (canonical !== entry.trim()) notes.push(`spec.ippools.${family}[${i}]: "${entry}" has host bits set: written as ${canonical}, the network it names`);
      return canonical;
    });
  }
}

/**
 * A policy without egressGatewayName stays so: sluice resolves it as spidernet's webhook did, from
 * the namespace's label (under sluice's group) or the cluster-default gateway, but at run time.
 */
function convertPolicy(policy: Obj, ctx: ExportContext, notes: string[]): void {
  const spec = isRecord(policy.spec) ? policy.spec : (policy.spec = {});
  if (typeof spec.egressGatewayName === 'string' && spec.egressGatewayName !== '') return;
  const label =
    policy.kind === 'EgressPolicy' ? `its namespace's label ${DEFAULT_GATEWAY_LABEL} (sluice does not read ${SPIDERNET_DEFAULT_LABEL}: label the namespace again), else ` : '';
  const found =
    ctx.clusterDefaults.length === 0
      ? 'the input has no EgressGateway with clusterDefault: true'
      : ctx.clusterDefaults.length === 1
        ? `here "${ctx.clusterDefaults[0]}"`
        : `the oldest of ${ctx.clusterDefaults.join(', ')} (a cluster has one: set the others to false)`;
  notes.push(`spec.egressGatewayName: none given; sluice uses ${label}the gateway with clusterDefault: true (${found})`);
}

/**
 * spidernet's podCidrMode `calico` reads Calico's IPPools, which sluice does not: the pod CIDRs
 * spidernet detected from them (in the exported status) become extraCidr, with podCidrMode none.
 */
function convertClusterInfo(info: Obj, original: Obj, notes: string[], failures: string[]): void {
  const spec = isRecord(info.spec) ? info.spec : (info.spec = {});
  const auto = isRecord(spec.autoDetect) ? spec.autoDetect : undefined;
  if (!auto || !('podCidrMode' in auto)) return;
  const mode = auto.podCidrMode;
  const status = isRecord(original.status) ? original.status : {};
  const detected = status.podCidrMode;
  if (mode === 'k8s' || mode === 'none') return;
  if (mode === '') {
    auto.podCidrMode = 'none';
    notes.push('spec.autoDetect.podCidrMode: "" (no detection) written as none');
    return;
  }
  if (mode === 'auto' && detected !== 'calico') {
    auto.podCidrMode = 'k8s';
    notes.push(`spec.autoDetect.podCidrMode: auto written as k8s (the Nodes' spec.podCIDRs${typeof detected === 'string' ? `; spidernet had detected ${detected}` : ''})`);
    return;
  }
  if (mode !== 'calico' && mode !== 'auto') {
    failures.push(`spec.autoDetect.podCidrMode: ${JSON.stringify(mode)} has no sluice equivalent (k8s, auto or none)`);
    return;
  }
  const pools = isRecord(status.podCIDR) ? status.podCIDR : {};
  const cidrs = [
    ...new Set(
      Object.values(pools).flatMap((p) => (isRecord(p) ? [p.ipv4, p.ipv6].flatMap((l) => (Array.isArray(l) ? l.filter((c): c is string => typeof c === 'string') : [])) : [])),
    ),
  ];
  if (cidrs.length === 0) {
    failures.push(
      'spec.autoDetect.podCidrMode: calico reads Calico IPPools, which sluice does not, and the input has no status.podCIDR listing them; set podCidrMode: none and list your IPPool CIDRs in spec.extraCidr',
    );
    return;
  }
  const extra = Array.isArray(spec.extraCidr) ? spec.extraCidr.filter((c): c is string => typeof c === 'string') : [];
  spec.extraCidr = [...new Set([...extra, ...cidrs])];
  auto.podCidrMode = 'none';
  notes.push(
    `spec.autoDetect.podCidrMode: ${mode === 'auto' ? 'auto (Calico detected)' : 'calico'}: sluice does not read Calico IPPools; written as none, with the pool CIDRs spidernet detected (${cidrs.join(', ')}) added to spec.extraCidr: keep them in step with your IPPools`,
  );
}
