/** manifests/ as `kubectl kustomize` renders it, and its RBAC objects for the lab's gate. */
import { writeFile } from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';
import { KUBECTL } from '../kubectl.js';
import { run } from '../run.js';
import type { LabState } from '../state.js';
import { MANIFESTS_DIR, rbacPath, renderedManifestsPath } from './api-gate-daemon.js';

const RBAC_KINDS = new Set(['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding']);

export async function renderManifests(dir = MANIFESTS_DIR): Promise<{ yaml: string; objects: Array<Record<string, unknown>> }> {
  const r = await run([KUBECTL, 'kustomize', dir], { timeoutMs: 30_000 });
  return { yaml: r.stdout, objects: parseAllDocuments(r.stdout).map((d) => d.toJS() as Record<string, unknown>) };
}

/** Writes the rendered manifests and the RBAC subset the gate authorizes with; returns the RBAC objects. */
export async function writeRenderedRbac(s: LabState): Promise<Array<Record<string, unknown>>> {
  const { yaml, objects } = await renderManifests();
  const rbac = objects.filter((o) => RBAC_KINDS.has(String(o.kind)));
  await writeFile(renderedManifestsPath(s), yaml);
  await writeFile(rbacPath(s), JSON.stringify(rbac, null, 2));
  return rbac;
}
