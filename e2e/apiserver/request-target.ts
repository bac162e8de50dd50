/** Splits a resource URL into group, version, namespace, resource, name and subresource (like RequestInfo). */
export interface RequestTarget {
  group: string;
  version: string;
  /** Undefined for cluster-scoped requests and for lists across all namespaces. */
  namespace?: string;
  resource?: string;
  name?: string;
  subresource?: string;
}

const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

export function parseResourcePath(pathname: string): RequestTarget | undefined {
  const parts = pathname
    .split('/')
    .filter((part) => part.length > 0)
    .map(decodeURIComponent);
  let rest: string[];
  let group: string;
  let version: string;
  if (parts[0] === 'api' && parts.length >= 2) {
    group = '';
    version = parts[1];
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 3) {
    group = parts[1];
    version = parts[2];
    rest = parts.slice(3);
  } else {
    return undefined;
  }
  if (rest.length === 0) return { group, version };
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3 && !NAMESPACE_SUBRESOURCES.has(rest[2])) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [resource, name, subresource, ...extra] = rest;
  if (extra.length > 0) return undefined;
  return { group, version, namespace, resource, name, subresource };
}
