/**
 * Junk status written the way a compromised node could: `kubectl patch --subresource=status`
 * with a merge patch. Each patch says what it tries; the API server may refuse some (a schema
 * enum, a pattern), which is fine: the rest reach the controller and the agents.
 */
import type { Lab } from '../../labkit/lab.js';

export interface StatusPatch {
  /** kubectl resource, e.g. `egresstunnel.egress.sluice.dev`. */
  readonly resource: string;
  readonly name: string;
  readonly namespace?: string;
  readonly status: Record<string, unknown>;
  readonly what: string;
}

export interface PatchOutcome {
  readonly patch: StatusPatch;
  readonly accepted: boolean;
  readonly message: string;
}

const PATCH_TIMEOUT_MS = 60_000;

export async function patchStatus(lab: Lab, p: StatusPatch): Promise<PatchOutcome> {
  const ns = p.namespace ? ['-n', p.namespace] : [];
  const r = await lab.kubectl(['patch', p.resource, p.name, ...ns, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: p.status })], {
    allowFailure: true,
    timeoutMs: PATCH_TIMEOUT_MS,
  });
  return { patch: p, accepted: r.exitCode === 0, message: (r.exitCode === 0 ? r.stdout : r.stderr).trim() };
}

/** How many kubectl processes patch at once: a burst of writes, as a compromised node would send them. */
const PARALLEL = 4;

/** Applies the patches, a few at a time, returning what the server said to each (in the order given). */
export async function patchAll(lab: Lab, patches: readonly StatusPatch[]): Promise<PatchOutcome[]> {
  const out: PatchOutcome[] = new Array<PatchOutcome>(patches.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < patches.length; i = next++) out[i] = await patchStatus(lab, patches[i]!);
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, patches.length) }, worker));
  return out;
}
