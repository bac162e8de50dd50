/** What the lab's API server committed, and when by its clock (its `/debug/changes` journal). */
import type { Lab } from '../../e2e/labkit/lab.js';

export interface Change {
  readonly resourceVersion: number;
  /** Commit time, epoch ms. */
  readonly at: number;
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly resource: string;
  readonly namespace?: string;
  readonly name: string;
  readonly object: Record<string, any>;
}

export const RESOURCES = {
  pods: 'pods',
  policies: 'egresspolicies.egress.sluice.dev',
  slices: 'egressendpointslices.egress.sluice.dev',
} as const;

export async function changesSince(lab: Lab, resourceVersion: number, resources: readonly string[]): Promise<Change[]> {
  const query = [`since=${resourceVersion}`, ...resources.map((r) => `resource=${encodeURIComponent(r)}`)].join('&');
  const r = await lab.kubectl(['get', '--raw', `/debug/changes?${query}`], { timeoutMs: 60_000 });
  return (JSON.parse(r.stdout) as { items: Change[] }).items;
}

/** The server's current resourceVersion (of a fresh list). */
export async function currentResourceVersion(lab: Lab): Promise<number> {
  const r = await lab.kubectl(['get', '--raw', '/api/v1/namespaces'], { timeoutMs: 60_000 });
  return Number((JSON.parse(r.stdout) as { metadata: { resourceVersion: string } }).metadata.resourceVersion);
}

/** The first change of one object that satisfies `test`. */
export function firstChange(
  changes: readonly Change[],
  resource: string,
  name: string | undefined,
  namespace: string | undefined,
  test: (c: Change) => boolean = () => true,
): Change | undefined {
  return changes.find((c) => c.resource === resource && (name === undefined || c.name === name) && c.namespace === namespace && test(c));
}

export const isReadyPod = (c: Change): boolean =>
  c.type !== 'DELETED' && (c.object.status?.conditions ?? []).some((x: { type?: string; status?: string }) => x.type === 'Ready' && x.status === 'True');

/** A slice change that lists the pod (namespace/name). */
export const sliceLists =
  (pod: string) =>
  (c: Change): boolean =>
    c.type !== 'DELETED' && (c.object.endpoints ?? []).some((e: { ns?: string; pod?: string }) => `${e.ns}/${e.pod}` === pod);
