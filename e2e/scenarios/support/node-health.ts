/** What the cluster says about its nodes' health: the Ready condition and the lifecycle taints. */
import type { Lab } from '../../labkit/lab.js';
import { kubectlJson } from './kubectl.js';

interface NodeList {
  items: Array<{
    metadata: { name: string };
    spec?: { taints?: Array<{ key: string; effect: string }> };
    status?: { conditions?: Array<{ type: string; status: string; reason?: string; lastTransitionTime?: string }> };
  }>;
}

export interface NodeHealth {
  readonly name: string;
  readonly ready: string;
  readonly readySince: string;
  readonly taints: readonly string[];
}

export async function nodeHealth(lab: Lab): Promise<NodeHealth[]> {
  const list = await kubectlJson<NodeList>(lab, ['get', 'nodes']);
  return list.items
    .map((n) => {
      const ready = n.status?.conditions?.find((c) => c.type === 'Ready');
      return {
        name: n.metadata.name,
        ready: ready ? `${ready.status}${ready.reason ? ` (${ready.reason})` : ''}` : 'none',
        readySince: ready?.lastTransitionTime ?? '',
        taints: (n.spec?.taints ?? []).map((t) => `${t.key}:${t.effect}`).sort(),
      };
    })
    .sort((a, b) => (a.name < b.name ? -1 : 1));
}
