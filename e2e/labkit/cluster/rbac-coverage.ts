/**
 * Compares what an identity's RBAC grants with the requests it sent through the lab's gate: every
 * request must have been allowed, and every grant (each verb on each resource of each rule) must
 * have been used by at least one request. A grant nobody uses is a permission to take away.
 */
import type { GateRecord } from './api-gate.js';
import { ruleAllows, type Rbac } from './rbac.js';
import type { ResourceAttributes } from './request-attributes.js';

export interface Grant {
  readonly group: string;
  /** With its subresource: `egresspolicies/status`. */
  readonly resource: string;
  readonly verb: string;
  /** '' = every namespace (a ClusterRoleBinding); else the RoleBinding's namespace. */
  readonly namespace: string;
  readonly source: string;
}

export interface Coverage {
  /** Requests RBAC refused, as `verb group/resource[/sub] [ns] name`. */
  readonly refused: string[];
  readonly unused: Grant[];
  /** Rules with `*` anywhere. */
  readonly wildcards: string[];
  /** How many requests each grant matched, for the log. */
  readonly uses: ReadonlyMap<Grant, number>;
}

export function describeRequest(a: ResourceAttributes): string {
  const res = `${a.group || 'core'}/${a.resource}${a.subresource ? `/${a.subresource}` : ''}`;
  return [a.verb, res, a.namespace && `in ${a.namespace}`, a.name].filter(Boolean).join(' ');
}

export function describeGrant(g: Grant): string {
  return `${g.verb} ${g.group || 'core'}/${g.resource}${g.namespace ? ` in ${g.namespace}` : ''} (${g.source})`;
}

export function rbacCoverage(rbac: Rbac, user: { user: string; groups: readonly string[] }, records: readonly GateRecord[]): Coverage {
  const bound = rbac.rulesFor(user);
  const grants: Grant[] = bound.flatMap(({ rule, namespace, source }) =>
    (rule.apiGroups ?? []).flatMap((group) => (rule.resources ?? []).flatMap((resource) => rule.verbs.map((verb) => ({ group, resource, verb, namespace, source })))),
  );
  const wildcards = bound.filter(({ rule }) => [rule.apiGroups, rule.resources, rule.verbs, rule.resourceNames].some((l) => (l ?? []).includes('*'))).map(({ source }) => source);
  const requests = records.flatMap((r) => (r.attributes.kind === 'resource' ? [{ a: r.attributes, allowed: r.allowed }] : []));
  const uses = new Map<Grant, number>();
  for (const g of grants) {
    const [resource, subresource = ''] = g.resource.split('/');
    const single = { apiGroups: [g.group], resources: [g.resource], verbs: [g.verb] };
    const n = requests.filter(
      ({ a, allowed }) => allowed && (g.namespace === '' || g.namespace === a.namespace) && a.resource === resource && a.subresource === subresource && ruleAllows(single, a),
    ).length;
    uses.set(g, n);
  }
  return {
    refused: [...new Set(requests.filter((r) => !r.allowed).map((r) => describeRequest(r.a)))],
    unused: grants.filter((g) => uses.get(g) === 0),
    wildcards,
    uses,
  };
}
