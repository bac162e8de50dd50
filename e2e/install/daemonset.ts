/** Facts of the shipped DaemonSet that the lab reproduces, read from the manifest itself. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { REPO } from './runtime-tree.js';

export const DAEMONSET_FILE = join(REPO, 'manifests', 'agent', 'daemonset.yaml');

export interface AgentContainer {
  readonly args: string[];
  readonly env: Array<{ name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }>;
  readonly securityContext: { privileged?: boolean; allowPrivilegeEscalation?: boolean; readOnlyRootFilesystem?: boolean; capabilities?: { drop?: string[]; add?: string[] } };
  readonly resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  readonly volumeMounts?: Array<{ name: string; mountPath: string }>;
  readonly ports?: Array<{ name: string; containerPort: number }>;
  readonly readinessProbe?: { httpGet?: { path: string; port: string | number } };
  readonly livenessProbe?: { httpGet?: { path: string; port: string | number } };
  readonly image: string;
}

export interface DaemonSetObject {
  kind: string;
  metadata: { name: string; namespace?: string };
  spec: {
    template: {
      metadata: { labels: Record<string, string> };
      spec: { hostNetwork?: boolean; containers: AgentContainer[]; volumes?: Array<{ name: string; hostPath?: { path: string } }> };
    };
  };
}

export function agentContainer(ds: DaemonSetObject): AgentContainer {
  const c = ds.spec.template.spec.containers[0];
  if (!c) throw new Error('the DaemonSet has no container');
  return c;
}

/** The capabilities the DaemonSet adds, as setpriv names them (`net_admin`). */
export function daemonSetCapabilities(): string[] {
  const ds = parse(readFileSync(DAEMONSET_FILE, 'utf8')) as DaemonSetObject;
  return (agentContainer(ds).securityContext.capabilities?.add ?? []).map((c) => c.toLowerCase());
}

export const CLEANUP_DAEMONSET_FILE = join(REPO, 'manifests', 'cleanup', 'daemonset.yaml');

/** The cleanup DaemonSet's init container: the one that runs `sluice cleanup`. */
export function cleanupContainer(): AgentContainer & { command: string[] } {
  const ds = parse(readFileSync(CLEANUP_DAEMONSET_FILE, 'utf8')) as { spec: { template: { spec: { initContainers?: Array<AgentContainer & { command: string[] }> } } } };
  const c = ds.spec.template.spec.initContainers?.[0];
  if (!c) throw new Error(`${CLEANUP_DAEMONSET_FILE} has no init container`);
  return c;
}

/** The capabilities the cleanup container adds, as setpriv names them. */
export function cleanupCapabilities(): string[] {
  return (cleanupContainer().securityContext.capabilities?.add ?? []).map((c) => c.toLowerCase());
}

/** The agent container's environment set to literal values (MALLOC_ARENA_MAX, NODE_OPTIONS): what a lab or bench agent runs with to behave as deployed. */
export function daemonSetLiteralEnv(file = DAEMONSET_FILE): Record<string, string> {
  const ds = parse(readFileSync(file, 'utf8')) as DaemonSetObject;
  return Object.fromEntries(agentContainer(ds).env.flatMap((e) => (e.value === undefined ? [] : [[e.name, e.value]])));
}
