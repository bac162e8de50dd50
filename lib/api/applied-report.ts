/**
 * A node's report of what it applied to its kernel (EgressTunnel `status.applied`), read by the
 * controller for each policy's `Programmed` condition. Any agent can write any EgressTunnel's
 * status (RBAC cannot narrow a status write to one node), so a report is input like any other:
 * bounded, validated entry by entry, and used only for the node whose tunnel carries it.
 */
import type { AppliedPolicyWire } from './wire.js';
import { isRecord } from './fields.js';
import { isDnsLabel, isDnsSubdomain } from './names.js';
import { policyKey } from './policy-key.js';
import { APPLIED_MESSAGE_MAX, APPLIED_POLICIES_MAX } from './limits.js';

/** Reasons of a policy's `Programmed` condition (docs/errors.md). */
export const PROGRAMMED_REASONS = ['Programmed', 'Pending', 'ApplyFailed', 'NoReport', 'NotReady'] as const;
export type ProgrammedReason = (typeof PROGRAMMED_REASONS)[number];

export const APPLIED_RESULTS = ['Applied', 'Failed'] as const;
/** An error code as lib/errors.ts spells them; a report from a newer agent may carry one we do not know. */
export const ERROR_CODE_PATTERN = '^EGW_ERR_[A-Z0-9_]{1,48}$';
const ERROR_CODE = new RegExp(ERROR_CODE_PATTERN);
/** Generations are int64 on the wire; beyond this JavaScript cannot compare them exactly. */
export const GENERATION_MAX = Number.MAX_SAFE_INTEGER;

interface AppliedPolicy {
  /** policyKey(): `ns/name` for an EgressPolicy, `name` for an EgressClusterPolicy. */
  readonly key: string;
  readonly generation: number;
  /** The gateway node the policy was applied for. */
  readonly node: string;
}

export interface AppliedReport {
  readonly result: 'Applied' | 'Failed';
  readonly code?: string;
  readonly message?: string;
  /** The node has more policies than it may list: a policy missing from the list is not known. */
  readonly truncated: boolean;
  readonly policies: ReadonlyMap<string, AppliedPolicy>;
}

export interface ParsedAppliedReport {
  /** Undefined when the report is missing or unusable as a whole. */
  readonly report?: AppliedReport;
  /** What was left out, one sentence each (at most a few: the rest is counted). */
  readonly problems: readonly string[];
}

const PROBLEMS_SHOWN = 5;

/** One line of printable text of at most APPLIED_MESSAGE_MAX characters (control characters become spaces). */
export function boundedMessage(text: string): string {
  const flat = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').trim();
  return flat.length > APPLIED_MESSAGE_MAX ? `${flat.slice(0, APPLIED_MESSAGE_MAX - 1)}…` : flat;
}

function readEntry(item: unknown, at: string): AppliedPolicy | string {
  if (!isRecord(item)) return `${at}: must be an object`;
  const { namespace, name, generation, node } = item;
  if (namespace !== undefined && (typeof namespace !== 'string' || !isDnsLabel(namespace))) return `${at}.namespace: is not a namespace name`;
  if (typeof name !== 'string' || !isDnsSubdomain(name)) return `${at}.name: is not an object name`;
  if (typeof generation !== 'number' || !Number.isInteger(generation) || generation < 1 || generation > GENERATION_MAX)
    return `${at}.generation: must be an integer from 1 to ${GENERATION_MAX}`;
  if (typeof node !== 'string' || !isDnsSubdomain(node)) return `${at}.node: is not a node name`;
  const key = typeof namespace === 'string' ? policyKey('EgressPolicy', namespace, name) : policyKey('EgressClusterPolicy', '', name);
  return { key, generation, node };
}

/**
 * Validates a report. The result must be known or the report is not used; a bad code or entry is
 * left out (an entry listed twice is left out both times: it claims two things at once); past
 * APPLIED_POLICIES_MAX entries the report counts as truncated.
 */
export function parseAppliedReport(raw: unknown): ParsedAppliedReport {
  if (raw === undefined || raw === null) return { problems: [] };
  if (!isRecord(raw)) return { problems: ['status.applied: must be an object'] };
  const result = raw.result;
  if (typeof result !== 'string' || !(APPLIED_RESULTS as readonly string[]).includes(result)) {
    return { problems: [`status.applied.result: must be ${APPLIED_RESULTS.join(' or ')}`] };
  }
  const problems: string[] = [];
  let code: string | undefined;
  if (raw.code !== undefined && raw.code !== null) {
    if (typeof raw.code === 'string' && ERROR_CODE.test(raw.code)) code = raw.code;
    else problems.push('status.applied.code: is not an error code; ignored');
  }
  const message = typeof raw.message === 'string' && raw.message !== '' ? boundedMessage(raw.message) : undefined;
  let truncated = raw.truncated === true;
  const list = raw.policies ?? [];
  const entries = new Map<string, AppliedPolicy>();
  const duplicated = new Set<string>();
  if (!Array.isArray(list)) {
    problems.push('status.applied.policies: must be a list; ignored');
  } else {
    if (list.length > APPLIED_POLICIES_MAX) {
      problems.push(`status.applied.policies: has more than ${APPLIED_POLICIES_MAX} entries; the rest is ignored`);
      truncated = true;
    }
    list.slice(0, APPLIED_POLICIES_MAX).forEach((item: unknown, i) => {
      const entry = readEntry(item, `status.applied.policies[${i}]`);
      if (typeof entry === 'string') return void problems.push(`${entry}; ignored`);
      if (entries.has(entry.key) || duplicated.has(entry.key)) {
        if (!duplicated.has(entry.key)) problems.push(`status.applied.policies[${i}]: lists ${entry.key} again; both ignored`);
        duplicated.add(entry.key);
        entries.delete(entry.key);
        return;
      }
      entries.set(entry.key, entry);
    });
  }
  const shown = problems.length > PROBLEMS_SHOWN ? [...problems.slice(0, PROBLEMS_SHOWN), `and ${problems.length - PROBLEMS_SHOWN} more`] : problems;
  return {
    report: { result: result as AppliedReport['result'], ...(code ? { code } : {}), ...(message ? { message } : {}), truncated, policies: entries },
    problems: shown,
  };
}

/** The wire entry of one policy, as an agent writes it. */
export function appliedPolicyWire(namespace: string, name: string, generation: number, node: string): AppliedPolicyWire {
  return { ...(namespace ? { namespace } : {}), name, generation, node };
}

/** Sorted by namespace then name, so equal reports are equal JSON and cause no write. */
export function sortAppliedPolicies(entries: AppliedPolicyWire[]): AppliedPolicyWire[] {
  const key = (e: AppliedPolicyWire) => `${e.namespace ?? ''}\u0000${e.name}`;
  return entries.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}
