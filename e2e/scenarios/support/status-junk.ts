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

/** Applies the patches one after the other (as fast as kubectl goes), returning what the server said. */
export async function patchAll(lab: Lab, patches: readonly StatusPatch[]): Promise<PatchOutcome[]> {
  const out: PatchOutcome[] = [];
  for (const p of patches) out.push(await patchStatus(lab, p));
  return out;
}
