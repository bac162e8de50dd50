/**
 * The real Dataplane (iproute2, sysctls, addresses) on a lab node with an nft driver whose loads
 * the kernel "refuses", as when nf_tables is missing or a ruleset is rejected. It runs the
 * dataplane's driver helper in the node's namespace; the nft table already there is not touched.
 */
import { fileURLToPath } from 'node:url';
import type { Lab } from '../labkit/lab.js';
import type { ApplyReport } from '../../lib/dataplane/dataplane-types.js';
import type { EipHoldLimit } from '../../lib/dataplane/eip-hold.js';
import type { HelperRequest } from '../../lib/dataplane/testing/driver-helper.js';
import type { HelperOutput } from '../../lib/dataplane/testing/lab.js';
import type { NodePlan } from '../../lib/planner/node-plan.js';

const HELPER = fileURLToPath(new URL('../../lib/dataplane/testing/driver-helper.js', import.meta.url));

/** Applies `plan` on its node with every nft load failing; one report per apply, in order. */
export async function applyWithFailingNft(lab: Lab, plan: NodePlan, opts: { applies?: number; eipHold?: EipHoldLimit } = {}): Promise<ApplyReport[]> {
  const request: HelperRequest = {
    ...(opts.eipHold ? { eipHold: opts.eipHold } : {}),
    steps: Array.from({ length: opts.applies ?? 1 }, () => ({ op: 'dataplane.apply' as const, plan, nftFails: true })),
  };
  const r = await lab.exec({ node: plan.node }, [process.execPath, HELPER], { input: JSON.stringify(request), timeoutMs: 60_000 });
  return (JSON.parse(r.stdout) as HelperOutput).results as ApplyReport[];
}
