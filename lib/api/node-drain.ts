import { DRAIN_ANNOTATION } from './group.js';
import { isRecord } from './fields.js';
import type { NodeDrain } from './model.js';

/**
 * Whether a node is drained, from its drain annotation and spec.unschedulable (cordon). The
 * annotation is untrusted text: `true` or `false` (any case, surrounding blanks ignored); anything
 * else is reported in `invalid` and ignored, so the cordon alone decides, as if it were absent.
 *
 * A cordon counts on its own because `kubectl drain` cordons and evicts pods but leaves DaemonSet
 * pods running: the agent gets no SIGTERM before the node goes down for maintenance, and the cordon
 * is the only sign it gets. The move it causes is the make-before-break handoff (no loss), and
 * ownership is sticky (an uncordon moves nothing back), so a cordon that did not mean maintenance
 * costs one planned move. `false` opts a node out (a cluster autoscaler that cordons nodes it may
 * keep, say).
 */
export function nodeDrain(metadata: unknown, unschedulable: unknown): NodeDrain | undefined {
  const annotations = isRecord(metadata) && isRecord(metadata.annotations) ? metadata.annotations : {};
  const raw = annotations[DRAIN_ANNOTATION];
  const cordoned = unschedulable === true;
  let invalid: string | undefined;
  if (raw !== undefined) {
    const text = typeof raw === 'string' ? raw.trim().toLowerCase() : undefined;
    if (text === 'true') return { drained: true, by: 'annotation' };
    if (text === 'false') return cordoned ? { drained: false, by: 'annotation' } : undefined;
    invalid = invalidText(raw);
  }
  if (cordoned) return { drained: true, by: 'cordon', ...(invalid ? { invalid } : {}) };
  return invalid ? { drained: false, invalid } : undefined;
}

function invalidText(raw: unknown): string {
  const shown = typeof raw === 'string' ? JSON.stringify(raw.length > 64 ? `${raw.slice(0, 64)}…` : raw) : `a ${Array.isArray(raw) ? 'list' : typeof raw}`;
  return `annotation ${DRAIN_ANNOTATION}: ${shown} is neither "true" nor "false"; ignored (the cordon alone decides)`;
}
