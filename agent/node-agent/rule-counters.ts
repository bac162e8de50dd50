import type { NftCounter } from '../../lib/dataplane/nft/nft-types.js';
import type { RuleCounter } from '../../lib/metrics/metrics.js';
import type { NodePlan } from '../../lib/planner/node-plan.js';
import { firewallRuleComment } from '../../lib/planner/firewall-rules.js';
import { GUARD_RULE_COMMENTS, POLICY_RULE_ROLES, policyRuleComment, type GuardRule } from '../../lib/planner/rule-comment.js';

type Identity =
  | { readonly kind: 'policy'; readonly policy: string; readonly rule: string }
  | { readonly kind: 'guard'; readonly guard: GuardRule }
  | { readonly kind: 'firewall'; readonly firewall: string; readonly rule: string };

/**
 * Names each counted rule by the identity its comment was made from: the comments this plan's
 * rules carry are computed here the way the planner wrote them, so nothing is parsed out of a
 * comment. Counters whose comment the plan does not know (a table from an older plan) are left out.
 */
export function identifyRuleCounters(counters: ReadonlyMap<string, NftCounter>, plan: NodePlan | undefined): RuleCounter[] {
  const identities = new Map<string, Identity>();
  for (const [guard, comment] of Object.entries(GUARD_RULE_COMMENTS)) identities.set(comment, { kind: 'guard', guard: guard as GuardRule });
  for (const p of plan?.policies ?? []) {
    for (const rule of POLICY_RULE_ROLES) identities.set(policyRuleComment(rule, p.key), { kind: 'policy', policy: p.key, rule });
  }
  for (const f of plan?.firewalls ?? []) {
    for (let i = 0; i < f.rules; i++) identities.set(firewallRuleComment(f.key, i), { kind: 'firewall', firewall: f.key, rule: `#${i}` });
    identities.set(firewallRuleComment(f.key, 'default'), { kind: 'firewall', firewall: f.key, rule: 'default' });
  }
  const out: RuleCounter[] = [];
  for (const [comment, c] of counters) {
    const id = identities.get(comment);
    if (id) out.push({ ...id, packets: c.packets, bytes: c.bytes });
  }
  return out;
}
