import type { Gateway, Policy } from '../api/model.js';

/**
 * The order overlapping policies are resolved in: higher spec.priority first, then the older
 * object, then kind (namespaced before cluster), then namespace/name. The first policy whose
 * pod and destination match a packet decides how it leaves.
 */
export function comparePolicies(a: Policy, b: Policy): number {
  if (a.spec.priority !== b.spec.priority) return b.spec.priority - a.spec.priority;
  if (a.creationTimestamp !== b.creationTimestamp) return a.creationTimestamp < b.creationTimestamp ? -1 : 1;
  if (a.kind !== b.kind) return a.kind === 'EgressPolicy' ? -1 : 1;
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/** Allocation order: older policies claim addresses first, so a restart reaches the same result. */
export function compareForAllocation(a: Policy, b: Policy): number {
  if (a.creationTimestamp !== b.creationTimestamp) return a.creationTimestamp < b.creationTimestamp ? -1 : 1;
  if (a.kind !== b.kind) return a.kind === 'EgressPolicy' ? -1 : 1;
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/** Gateways by age (then name): the older of two gateways with overlapping pools keeps them. */
export function compareGateways(a: Gateway, b: Gateway): number {
  if (a.creationTimestamp !== b.creationTimestamp) return a.creationTimestamp < b.creationTimestamp ? -1 : 1;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
