/** The real kubectl against a lab's API server, as a user would run it. */
import { stringify as stringifyYaml } from 'yaml';
import { API_VERSION } from '../../../lib/api/group.js';
import type { KubeObject } from '../../../lib/api/wire.js';
import type { Lab } from '../../labkit/lab.js';
import type { RunResult } from '../../labkit/run.js';

const KUBECTL_TIMEOUT_MS = 20_000;

/** Runs kubectl and returns its result whatever the exit code. */
export async function kubectlResult(lab: Lab, args: readonly string[], input?: string): Promise<RunResult> {
  return lab.kubectl(args, { allowFailure: true, timeoutMs: KUBECTL_TIMEOUT_MS, ...(input === undefined ? {} : { input }) });
}

/** Runs kubectl; throws with its stderr unless it exits 0. Returns stdout. */
export async function kubectl(lab: Lab, args: readonly string[], input?: string): Promise<string> {
  const r = await kubectlResult(lab, args, input);
  if (r.exitCode !== 0) throw new Error(`kubectl ${args.join(' ')} failed (exit ${r.exitCode}): ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout;
}

export async function kubectlJson<T>(lab: Lab, args: readonly string[]): Promise<T> {
  return JSON.parse(await kubectl(lab, [...args, '-o', 'json'])) as T;
}

/** A YAML stream of the objects, as a user would pipe into `kubectl apply -f -`. */
export function manifestStream(objects: readonly KubeObject[]): string {
  return objects.map((o) => stringifyYaml(o)).join('---\n');
}

export async function applyObjects(lab: Lab, objects: readonly KubeObject[]): Promise<void> {
  await kubectl(lab, ['apply', '-f', '-'], manifestStream(objects));
}

/**
 * `kubectl delete` of sluice's objects by kind/name (and namespace), in the order given; missing
 * objects are fine. One kubectl for all of them: it deletes them one by one, in that order.
 */
export async function deleteObjects(lab: Lab, objects: readonly KubeObject[]): Promise<void> {
  if (objects.length === 0) return;
  const refs = objects.map((o) => ({
    apiVersion: API_VERSION,
    kind: o.kind,
    metadata: { name: o.metadata!.name, ...(o.metadata?.namespace ? { namespace: o.metadata.namespace } : {}) },
  }));
  await kubectl(lab, ['delete', '-f', '-', '--ignore-not-found'], manifestStream(refs));
}
