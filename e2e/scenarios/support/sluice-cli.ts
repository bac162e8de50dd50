/** The sluice CLI as an operator runs it: on a node (status, diff) or offline against a cluster dump (explain). */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Explanation } from '../../../lib/planner/explain.js';
import type { Lab } from '../../labkit/lab.js';
import { run, type RunResult } from '../../labkit/run.js';
import { kubectl } from './kubectl.js';

export const SLUICE_MAIN = fileURLToPath(new URL('../../../agent/main.js', import.meta.url));
const CLI_TIMEOUT_MS = 20_000;
/** What `sluice explain` reads to see the cluster as the agents do. */
const CLUSTER_KINDS =
  'nodes,namespaces,pods,egressgateways,egresspolicies,egressclusterpolicies,egressfirewalls,egressclusterfirewalls,egressclusterinfos,egressendpointslices,egressclusterendpointslices';

/** `sluice ARGS…` inside the node's network namespace, where the agent's status address answers. */
export async function sluiceOnNode(lab: Lab, node: string, args: readonly string[]): Promise<RunResult> {
  return lab.exec({ node }, [process.execPath, SLUICE_MAIN, ...args], { allowFailure: true, timeoutMs: CLI_TIMEOUT_MS });
}

/**
 * `sluice explain --pod POD [--dest IP] -o json` over one `kubectl get … -A -o yaml` of the live
 * cluster, once per destination (undefined: any external one).
 */
export async function explainLive(lab: Lab, pod: string, dests: ReadonlyArray<string | undefined>): Promise<Explanation[]> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-scenario-'));
  try {
    const file = join(dir, 'cluster.yaml');
    await writeFile(file, await kubectl(lab, ['get', CLUSTER_KINDS, '-A', '-o', 'yaml']));
    return await Promise.all(
      dests.map(async (dest) => {
        const argv = [process.execPath, SLUICE_MAIN, 'explain', '--cluster', file, '--pod', pod, ...(dest ? ['--dest', dest] : []), '-o', 'json'];
        return JSON.parse((await run(argv, { timeoutMs: CLI_TIMEOUT_MS })).stdout) as Explanation;
      }),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * `sluice explain --pod POD --dest DEST ARGS… -o json` on a node (where `--learned` reads that
 * node's kernel), over one dump of the live cluster. Returns the CLI's result as it is.
 */
export async function explainOnNode(lab: Lab, node: string, pod: string, dest: string, args: readonly string[] = []): Promise<RunResult> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-scenario-'));
  try {
    const file = join(dir, 'cluster.yaml');
    await writeFile(file, await kubectl(lab, ['get', CLUSTER_KINDS, '-A', '-o', 'yaml']));
    return await sluiceOnNode(lab, node, ['explain', '--cluster', file, '--pod', pod, '--dest', dest, ...args, '-o', 'json']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
