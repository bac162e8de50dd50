import type { Condition } from '../api/meta.js';
import { isRecord } from '../api/fields.js';

/** A condition as a reconciler wants it; lastTransitionTime is filled in by mergeConditions. */
export interface DesiredCondition {
  readonly type: string;
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: string;
  readonly message: string;
  readonly observedGeneration?: number;
}

const MESSAGE_LIMIT = 32_768;

/** Conditions of a wire status, ignoring entries that are not objects with a type. */
export function readConditions(status: unknown): Condition[] {
  const list = isRecord(status) && Array.isArray(status.conditions) ? status.conditions : [];
  return list.filter((c): c is Condition => isRecord(c) && typeof c.type === 'string');
}

/**
 * metav1.Condition semantics: lastTransitionTime moves only when status changes, so an
 * unchanged condition compares equal and causes no write. Output is sorted by type.
 */
export function mergeConditions(existing: readonly Condition[], desired: readonly DesiredCondition[], now: string): Condition[] {
  const byType = new Map(existing.map((c) => [c.type, c]));
  return [...desired]
    .sort((a, b) => (a.type < b.type ? -1 : 1))
    .map((d) => {
      const old = byType.get(d.type);
      return {
        type: d.type,
        status: d.status,
        reason: d.reason,
        message: d.message.length > MESSAGE_LIMIT ? `${d.message.slice(0, MESSAGE_LIMIT - 3)}...` : d.message,
        ...(d.observedGeneration !== undefined ? { observedGeneration: d.observedGeneration } : {}),
        lastTransitionTime: old && old.status === d.status && old.lastTransitionTime ? old.lastTransitionTime : now,
      };
    });
}

/** RFC 3339 with seconds precision, as metav1.Time serializes. */
export function kubeTime(ms: number = Date.now()): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}
