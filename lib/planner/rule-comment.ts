/**
 * The comments sluice's counted nft rules carry: the one stable identity of a rule that the
 * kernel keeps and returns with its counter. The planner writes them; the agent maps a counter's
 * comment back to its rule by computing the same comments from its plan, never by parsing.
 */

/** What a policy's rule does on this node. */
export type PolicyRuleRole = 'gateway' | 'native' | 'local' | 'snat' | 'worker';
export const POLICY_RULE_ROLES: readonly PolicyRuleRole[] = ['gateway', 'native', 'local', 'snat', 'worker'];

/** nft keeps at most 128 bytes of a comment; nft/values.ts takes printable ASCII without `"` or `\`. */
const MAX_COMMENT = 120;

export function policyRuleComment(role: PolicyRuleRole, policyKey: string): string {
  return `${role} ${policyKey}`.slice(0, MAX_COMMENT).replace(/[^\x20-\x7e]|["\\]/g, '');
}

/** The guard rules that count what they drop, by a stable name (the metric label). */
export const GUARD_RULE_COMMENTS = {
  'vxlan-unknown-host': 'vxlan from unknown host',
  'anti-relay': 'anti-relay',
  'eip-input': 'eip input guard',
  'off-tunnel': 'marked off the tunnel',
  'native-relay': 'native relay',
} as const;

export type GuardRule = keyof typeof GUARD_RULE_COMMENTS;
