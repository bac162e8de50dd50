/**
 * What the Kubernetes authorizer sees of a request: its verb, API group, resource, subresource,
 * namespace and name, worked out from the method, path and query as the API server's
 * RequestInfoFactory does. Paths outside /api and /apis are non-resource requests.
 */
export interface ResourceAttributes {
  readonly kind: 'resource';
  readonly verb: string;
  readonly group: string;
  readonly version: string;
  readonly resource: string;
  readonly subresource: string;
  readonly namespace: string;
  readonly name: string;
}

export interface NonResourceAttributes {
  readonly kind: 'nonResource';
  readonly verb: string;
  readonly path: string;
}

export type RequestAttributes = ResourceAttributes | NonResourceAttributes;

const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);
const VERBS: Readonly<Record<string, string>> = { POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete', GET: 'get', HEAD: 'get' };

export function requestAttributes(method: string, url: URL): RequestAttributes {
  const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const httpVerb = VERBS[method.toUpperCase()] ?? method.toLowerCase();
  const core = parts[0] === 'api' && parts.length >= 2;
  const grouped = parts[0] === 'apis' && parts.length >= 3;
  if (!core && !grouped) return { kind: 'nonResource', verb: httpVerb, path: url.pathname };
  const group = core ? '' : parts[1]!;
  const version = core ? parts[1]! : parts[2]!;
  let rest = parts.slice(core ? 2 : 3);
  if (rest.length === 0) return { kind: 'nonResource', verb: httpVerb, path: url.pathname };
  let namespace = '';
  // namespaces/NS/RES/... is a namespaced resource; namespaces/NS (and its status, finalize) is the Namespace itself
  if (rest[0] === 'namespaces' && rest.length >= 2) {
    namespace = rest[1]!;
    if (rest.length > 2 && !NAMESPACE_SUBRESOURCES.has(rest[2]!)) rest = rest.slice(2);
  }
  const [resource = '', name = '', subresource = ''] = rest;
  let verb = httpVerb;
  const watch = ['true', '1'].includes(url.searchParams.get('watch') ?? '');
  if (verb === 'get' && name === '') verb = watch ? 'watch' : 'list';
  else if (verb === 'get' && watch) verb = 'watch';
  if (verb === 'delete' && name === '') verb = 'deletecollection';
  return { kind: 'resource', verb, group, version, resource, subresource, namespace, name };
}
