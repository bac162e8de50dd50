import type { Parsed, Problem } from './problems.js';
import type { ClusterInfo, EndpointSlice, Firewall, Gateway, NamespaceInfo, NodeInfo, PodInfo, Policy, Tunnel } from './model.js';
import { API_VERSION, GROUP } from './group.js';
import { isRecord } from './fields.js';
import { parseGateway } from './parse-gateway.js';
import { parsePolicy } from './parse-policy.js';
import { parseFirewall } from './parse-firewall.js';
import { parseNamespace, parseNode, parsePod } from './parse-core.js';
import { parseClusterInfo, parseEndpointSlice, parseTunnel } from './parse-status-objects.js';
import { KIND_DEFINITIONS } from './schema/kinds.js';
import { unknownFields } from './unknown-fields.js';

export type ParsedObject =
  | { kind: 'Node'; value: NodeInfo }
  | { kind: 'Namespace'; value: NamespaceInfo }
  | { kind: 'Pod'; value: PodInfo }
  | { kind: 'EgressGateway'; value: Gateway }
  | { kind: 'EgressPolicy' | 'EgressClusterPolicy'; value: Policy }
  | { kind: 'EgressEndpointSlice' | 'EgressClusterEndpointSlice'; value: EndpointSlice }
  | { kind: 'EgressFirewall' | 'EgressClusterFirewall'; value: Firewall }
  | { kind: 'EgressTunnel'; value: Tunnel }
  | { kind: 'EgressClusterInfo'; value: ClusterInfo };

export interface DocumentResult {
  readonly kind: string;
  readonly name: string;
  readonly object?: ParsedObject;
  readonly problems: readonly Problem[];
  /** Controller-written fields left out of the model (see Parsed.ignored). */
  readonly ignored?: readonly Problem[];
}

const CORE_KINDS = new Set(['Node', 'Namespace', 'Pod']);
/** spidernet's group: recognised only to give a helpful message (sluice import converts it). */
const SPIDERNET_GROUP = 'egressgateway.spidernet.io';

const SCHEMAS = new Map(KIND_DEFINITIONS.map((d) => [d.kind, { type: 'object', ...d.schema }]));

function wrap<T, K extends ParsedObject['kind']>(kind: K, parsed: Parsed<T>): Omit<DocumentResult, 'name'> {
  return parsed.value === undefined
    ? { kind, problems: parsed.problems }
    : { kind, object: { kind, value: parsed.value } as ParsedObject, problems: [], ...(parsed.ignored?.length ? { ignored: parsed.ignored } : {}) };
}

/**
 * Fields the CRD does not have: `kubectl apply` refuses them, so the parser does too. In status,
 * which controllers write, they are only reported (the API server would have pruned them).
 */
function withUnknownFields(kind: string, doc: Record<string, unknown>, result: Omit<DocumentResult, 'name'>): Omit<DocumentResult, 'name'> {
  const schema = SCHEMAS.get(kind);
  if (!schema) return result;
  const reported = new Set([...result.problems, ...(result.ignored ?? [])].map((p) => p.path));
  const unknown: Problem[] = unknownFields(doc, schema)
    .filter((path) => !reported.has(path))
    .map((path) => ({ reason: 'UnknownField', path, message: 'is not a field of this kind' }));
  const inStatus = (p: Problem) => p.path.startsWith('status.');
  if (unknown.length === 0) return result;
  if (unknown.every(inStatus) && result.object) return { ...result, ignored: [...(result.ignored ?? []), ...unknown] };
  return { kind: result.kind, problems: [...result.problems, ...unknown.filter((p) => !inStatus(p))] };
}

/** Parses any document sluice understands; anything else yields a problem, never a throw. */
export function parseDocument(doc: unknown): DocumentResult {
  if (!isRecord(doc)) {
    return { kind: '', name: '', problems: [{ reason: 'InvalidType', path: '', message: 'document is not a mapping (expected a Kubernetes object)' }] };
  }
  const kind = typeof doc.kind === 'string' ? doc.kind : '';
  const apiVersion = typeof doc.apiVersion === 'string' ? doc.apiVersion : '';
  const meta = isRecord(doc.metadata) ? doc.metadata : {};
  const name = typeof meta.name === 'string' ? meta.name : '';
  const fail = (path: string, message: string): DocumentResult => ({ kind, name, problems: [{ reason: 'UnknownKind', path, message }] });
  if (!kind) return fail('kind', 'is missing');
  if (!apiVersion) return fail('apiVersion', 'is missing');
  if (CORE_KINDS.has(kind)) {
    if (apiVersion !== 'v1') return fail('apiVersion', `${kind} must be apiVersion v1, not "${apiVersion}"`);
  } else if (apiVersion.startsWith(`${SPIDERNET_GROUP}/`)) {
    return fail('apiVersion', `"${apiVersion}" is spidernet's group; use ${API_VERSION} (\`sluice import\` converts files)`);
  } else if (apiVersion.startsWith(`${GROUP}/`) && apiVersion !== API_VERSION) {
    return fail('apiVersion', `"${apiVersion}" is not served; use ${API_VERSION}`);
  } else if (apiVersion !== API_VERSION) {
    return fail('kind', `${kind} (${apiVersion}) is not a kind sluice reads`);
  }
  const body = doc;
  const result = (() => {
    switch (kind) {
      case 'Node':
        return wrap('Node', parseNode(body));
      case 'Namespace':
        return wrap('Namespace', parseNamespace(body));
      case 'Pod':
        return wrap('Pod', parsePod(body));
      case 'EgressGateway':
        return wrap('EgressGateway', parseGateway(body));
      case 'EgressPolicy':
        return wrap('EgressPolicy', parsePolicy(body, 'EgressPolicy'));
      case 'EgressClusterPolicy':
        return wrap('EgressClusterPolicy', parsePolicy(body, 'EgressClusterPolicy'));
      case 'EgressFirewall':
        return wrap('EgressFirewall', parseFirewall(body, 'EgressFirewall'));
      case 'EgressClusterFirewall':
        return wrap('EgressClusterFirewall', parseFirewall(body, 'EgressClusterFirewall'));
      case 'EgressEndpointSlice':
        return wrap('EgressEndpointSlice', parseEndpointSlice(body, false));
      case 'EgressClusterEndpointSlice':
        return wrap('EgressClusterEndpointSlice', parseEndpointSlice(body, true));
      case 'EgressTunnel':
        return wrap('EgressTunnel', parseTunnel(body));
      case 'EgressClusterInfo':
        return wrap('EgressClusterInfo', parseClusterInfo(body));
      default:
        return undefined;
    }
  })();
  if (!result) return fail('kind', `"${kind}" is not a kind of ${API_VERSION}`);
  return { ...withUnknownFields(kind, body, result), name };
}
