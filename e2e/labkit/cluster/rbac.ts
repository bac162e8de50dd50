/**
 * Kubernetes RBAC evaluation over a set of rendered objects (ClusterRoles, Roles and their
 * bindings), as the API server's RBAC authorizer decides: a request is allowed when a rule of a
 * role bound to the user (a ClusterRoleBinding anywhere, a RoleBinding in the request's namespace)
 * matches its API group, resource (with subresource), verb and, when the rule lists any, name.
 */
import type { ResourceAttributes } from './request-attributes.js';

export interface PolicyRule {
  readonly apiGroups?: readonly string[];
  readonly resources?: readonly string[];
  readonly resourceNames?: readonly string[];
  readonly verbs: readonly string[];
  readonly nonResourceURLs?: readonly string[];
}

interface RbacObject {
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string };
  readonly rules?: readonly PolicyRule[];
  readonly roleRef?: { readonly kind: string; readonly name: string };
  readonly subjects?: readonly { readonly kind: string; readonly name: string; readonly namespace?: string }[];
}

/** A ServiceAccount's user name and groups, as the token authenticator reports them. */
export function serviceAccountUser(namespace: string, name: string): { user: string; groups: string[] } {
  return { user: `system:serviceaccount:${namespace}:${name}`, groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'] };
}

export interface BoundRule {
  readonly rule: PolicyRule;
  /** Where the rule applies: '' = every namespace and cluster-scoped resources (ClusterRoleBinding). */
  readonly namespace: string;
  /** `ClusterRole/x via ClusterRoleBinding/y`. */
  readonly source: string;
}

export class Rbac {
  readonly #objects: readonly RbacObject[];

  constructor(objects: readonly unknown[]) {
    this.#objects = objects.filter(
      (o): o is RbacObject => typeof o === 'object' && o !== null && ['ClusterRole', 'Role', 'ClusterRoleBinding', 'RoleBinding'].includes((o as RbacObject).kind),
    );
  }

  /** Every rule that applies to the user, with where it applies. */
  rulesFor(user: { user: string; groups: readonly string[] }): BoundRule[] {
    const out: BoundRule[] = [];
    for (const b of this.#objects.filter((o) => o.kind === 'ClusterRoleBinding' || o.kind === 'RoleBinding')) {
      if (!(b.subjects ?? []).some((s) => subjectMatches(s, b, user))) continue;
      const ref = b.roleRef;
      if (!ref) continue;
      const role = this.#objects.find((o) => o.kind === ref.kind && o.metadata.name === ref.name && (ref.kind === 'ClusterRole' || o.metadata.namespace === b.metadata.namespace));
      const namespace = b.kind === 'RoleBinding' ? (b.metadata.namespace ?? '') : '';
      for (const rule of role?.rules ?? []) out.push({ rule, namespace, source: `${ref.kind}/${ref.name} via ${b.kind}/${b.metadata.name}` });
    }
    return out;
  }

  allows(user: { user: string; groups: readonly string[] }, a: ResourceAttributes): boolean {
    return this.rulesFor(user).some((b) => (b.namespace === '' || b.namespace === a.namespace) && ruleAllows(b.rule, a));
  }
}

function subjectMatches(s: { kind: string; name: string; namespace?: string }, binding: RbacObject, user: { user: string; groups: readonly string[] }): boolean {
  if (s.kind === 'ServiceAccount') return user.user === `system:serviceaccount:${s.namespace ?? binding.metadata.namespace ?? ''}:${s.name}`;
  if (s.kind === 'User') return user.user === s.name;
  if (s.kind === 'Group') return user.groups.includes(s.name);
  return false;
}

const has = (list: readonly string[] | undefined, value: string) => (list ?? []).includes('*') || (list ?? []).includes(value);

export function ruleAllows(rule: PolicyRule, a: ResourceAttributes): boolean {
  if (!has(rule.verbs, a.verb) || !has(rule.apiGroups, a.group)) return false;
  const combined = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const resources = rule.resources ?? [];
  const resourceOk = resources.includes('*') || resources.includes(combined) || (a.subresource !== '' && resources.includes(`*/${a.subresource}`));
  if (!resourceOk) return false;
  return (rule.resourceNames ?? []).length === 0 || (a.name !== '' && rule.resourceNames!.includes(a.name));
}

/** The message a real API server sends with a 403. */
export function forbiddenMessage(user: string, a: ResourceAttributes): string {
  const what = a.group ? `${a.resource}.${a.group}` : a.resource;
  const res = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const scope = a.namespace ? ` in the namespace "${a.namespace}"` : '';
  return `${what}${a.name ? ` "${a.name}"` : ''} is forbidden: User "${user}" cannot ${a.verb} resource "${res}" in API group "${a.group}"${scope}`;
}
