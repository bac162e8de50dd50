/** Installs sluice's CRDs the way a user does (`kubectl apply -k manifests/crds`) and waits until they are Established. */
import { fileURLToPath } from 'node:url';
import { kubectlCommand } from '../kubectl.js';
import { run } from '../run.js';
import type { LabState } from '../state.js';
import { apiPaths } from './api-paths.js';
import { conditionOf, type Condition, type ObjectMeta } from './kube-types.js';
import { labApi, pollUntil } from './lab-api.js';

export const CRD_DIR = fileURLToPath(new URL('../../../../manifests/crds', import.meta.url));

export async function installCrds(s: LabState): Promise<string[]> {
  const cmd = kubectlCommand(s, ['apply', '-k', CRD_DIR]);
  await run(cmd.argv, { netns: cmd.netns, env: cmd.env, timeoutMs: 30_000 });
  const api = labApi(s);
  let pending: string[] = [];
  return pollUntil(
    async () => {
      const crds = (await api.list<{ metadata: ObjectMeta; status?: { conditions?: Condition[] } }>(apiPaths.crds)).items;
      pending = crds.filter((c) => conditionOf(c.status?.conditions, 'Established')?.status !== 'True').map((c) => c.metadata.name);
      return crds.length > 0 && pending.length === 0 ? crds.map((c) => c.metadata.name) : undefined;
    },
    20_000,
    async () => `CRDs not Established: ${pending.join(', ') || 'none installed'}`,
  );
}
