import type { EventRecorder } from '../kube/events.js';
import { PassReport, type ControllerContext } from './context.js';

/** The invalid drain annotation texts already reported, per recorder (one controller), by node. */
const reported = new WeakMap<EventRecorder, Map<string, string>>();

/**
 * A Warning Event `InvalidDrainAnnotation` on a Node whose drain annotation is not `true` or
 * `false`, once per value (the annotation is ignored: the cordon alone decides, see node-drain.ts).
 * A Node has no status of ours to put a condition in; agents also log it as a plan notice.
 */
export async function reportInvalidDrains(ctx: ControllerContext): Promise<PassReport> {
  const seen = reported.get(ctx.events) ?? new Map<string, string>();
  reported.set(ctx.events, seen);
  const now = new Map<string, string>();
  for (const node of ctx.snapshot.nodes) {
    const invalid = node.drain?.invalid;
    if (!invalid) continue;
    now.set(node.name, invalid);
    if (seen.get(node.name) === invalid) continue;
    await ctx.events.record({ apiVersion: 'v1', kind: 'Node', name: node.name }, 'Warning', 'InvalidDrainAnnotation', invalid, ctx.signal);
  }
  seen.clear();
  for (const [k, v] of now) seen.set(k, v);
  return new PassReport();
}
